namespace Sandbox.Guard.Tests.Store;

/// <summary>The audit chain's contract (<see cref="GuardStoreAuditTests"/>) on a real SQLite file.</summary>
public sealed class SqliteGuardStoreAuditTests() : GuardStoreAuditTests(new SqliteBacking());
