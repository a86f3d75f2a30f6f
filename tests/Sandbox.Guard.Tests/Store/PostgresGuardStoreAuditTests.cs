namespace Sandbox.Guard.Tests.Store;

/// <summary>The audit chain's contract (<see cref="GuardStoreAuditTests"/>) on a real PostgreSQL database: appends from several nodes stay one chain.</summary>
public sealed class PostgresGuardStoreAuditTests(PostgresCluster cluster) : GuardStoreAuditTests(new PostgresBacking(cluster));
