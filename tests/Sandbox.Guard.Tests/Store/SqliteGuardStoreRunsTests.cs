namespace Sandbox.Guard.Tests.Store;

/// <summary>The runs' contract (<see cref="GuardStoreRunsTests"/>) on a real SQLite file.</summary>
public sealed class SqliteGuardStoreRunsTests() : GuardStoreRunsTests(new SqliteBacking());
