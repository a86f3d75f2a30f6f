namespace Sandbox.Guard.Tests.Store;

/// <summary>The runs' contract (<see cref="GuardStoreRunsTests"/>) on a real PostgreSQL database.</summary>
public sealed class PostgresGuardStoreRunsTests(PostgresCluster cluster) : GuardStoreRunsTests(new PostgresBacking(cluster));
