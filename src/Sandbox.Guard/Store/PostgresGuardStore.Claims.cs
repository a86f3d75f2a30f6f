using Npgsql;

namespace Sandbox.Guard.Store;

/// <summary>Offered runs claimed by the nodes that serve them (see <see cref="IRunClaims"/>; migration 7).</summary>
public sealed partial class PostgresGuardStore : IRunClaims
{
    /// <summary>The channel an offered run is announced on, inside its admission's transaction.</summary>
    internal const string RunsQueuedChannel = "runs_queued";

    /// <summary>What this node serves, as <see cref="RunNeeds"/> (set with its lease); "[]" claims nothing.</summary>
    private string _serves = "[]";

    public Task<IReadOnlyList<ClaimedRun>> ClaimAsync(int max, CancellationToken cancellationToken) =>
        max <= 0 ? Task.FromResult<IReadOnlyList<ClaimedRun>>([]) : ClaimWhereAsync(max, runId: null, cancellationToken);

    public async Task<ClaimedRun?> ClaimOfferedAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        return (await ClaimWhereAsync(1, runId, cancellationToken)) is [var claimed] ? claimed : null;
    }

    private async Task<IReadOnlyList<ClaimedRun>> ClaimWhereAsync(int max, string? runId, CancellationToken cancellationToken)
    {
        if (Lease is not { } lease)
        {
            return [];
        }

        // No write lock: SKIP LOCKED makes two claimers disjoint (a row one holds is skipped by the other, and re-checked
        // against owner_node IS NULL once locked, so a row claimed and committed meanwhile is not taken twice). Fenced: only
        // under this node's live lease, by the database's clock, so a node taken over claims nothing under its old fence.
        // MATERIALIZED: the picked set is computed once, as locked, whatever the planner would inline.
        await using var connection = await OpenConnectionAsync(cancellationToken);
        var claimed = await ReadAsync(connection, null,
            $"""
            WITH picked AS MATERIALIZED (
                SELECT run_id AS picked_id, cancel_requested AS picked_cancel FROM runs
                WHERE state = 'queued' AND owner_node IS NULL AND needs IS NOT NULL AND needs <@ @serves::jsonb
                  AND (@run::text IS NULL OR run_id = @run::text)
                  AND EXISTS (SELECT 1 FROM nodes WHERE node_id = @me AND fence = @fence AND lease_until > clock_timestamp())
                ORDER BY created_at
                LIMIT @max
                FOR UPDATE SKIP LOCKED)
            UPDATE runs SET owner_node = @me, fence = @fence FROM picked WHERE run_id = picked_id
            RETURNING {RunColumns}, picked_cancel
            """,
            r => new ClaimedRun(ReadRun(r), NullableString(r, 16)), cancellationToken,
            ("serves", Volatile.Read(ref _serves)), ("run", runId), ("me", lease.NodeId), ("fence", lease.Fence), ("max", max));
        return [.. claimed.OrderBy(c => c.Run.CreatedAt)];
    }

    public Task ListenQueuedAsync(Action queued, Action listening, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queued);
        ArgumentNullException.ThrowIfNull(listening);
        return ListenOnAsync(RunsQueuedChannel, _ => queued(), listening, cancellationToken);
    }

    private static Task<int> NotifyQueuedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction, "SELECT pg_notify(@channel, '')", cancellationToken, ("channel", RunsQueuedChannel));
}
