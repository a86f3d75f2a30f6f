using System.Text.Json;
using Npgsql;

namespace Sandbox.Guard.Store;

/// <summary>Node leases with a fencing token, and the takeover of a node whose lease expired (see <see cref="INodeLeases"/>).</summary>
public sealed partial class PostgresGuardStore : INodeLeases
{
    private NodeLease? _lease;

    public NodeLease? Lease => Volatile.Read(ref _lease);

    public Task<NodeLease?> AcquireLeaseAsync(string nodeId, NodeServes serves, TimeSpan duration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        ArgumentNullException.ThrowIfNull(serves);
        var held = Lease?.Fence;
        return WriteAsync<NodeLease?>(async (connection, transaction) =>
        {
            // Under the write lock, like a takeover: a survivor either took the old lease over before this (its rows are no
            // longer ours), or finds this fresh lease and leaves it alone. Never both. A live lease under this id that is not
            // ours is another process's: refused (fails closed), never taken from under it.
            var fences = await ReadAsync(connection, transaction,
                """
                INSERT INTO nodes (node_id, fence, started_at, lease_until, backends, images)
                VALUES (@node, nextval('node_fence'), clock_timestamp(), clock_timestamp() + @duration, @backends::jsonb, @images::jsonb)
                ON CONFLICT (node_id) DO UPDATE SET fence = excluded.fence, started_at = excluded.started_at,
                    lease_until = excluded.lease_until, backends = excluded.backends, images = excluded.images
                WHERE nodes.lease_until < clock_timestamp() OR nodes.fence = @held::bigint
                RETURNING fence
                """,
                r => r.GetInt64(0), cancellationToken,
                ("node", nodeId), ("duration", duration), ("backends", JsonSerializer.Serialize(serves.Backends)), ("images", JsonSerializer.Serialize(serves.Images)),
                ("held", held));
            if (fences.Count == 0)
            {
                return (false, null);
            }

            var fence = fences[0];

            // The same node id restarted (its older process is gone, or is fenced out from now on): its open rows are taken
            // back under the new fence, for its start-up recovery to record.
            await ExecuteAsync(connection, transaction, "UPDATE runs SET fence = @fence WHERE owner_node = @node AND state <> 'completed'",
                cancellationToken, ("fence", fence), ("node", nodeId));
            var lease = new NodeLease(nodeId, fence);
            Volatile.Write(ref _serves, RunNeeds.Of(serves)); // what this node claims (IRunClaims)
            Volatile.Write(ref _lease, lease);
            return (true, lease);
        }, cancellationToken);
    }

    public async Task<bool> RenewLeaseAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        if (Lease is not { } lease)
        {
            return false;
        }

        // No write lock: one row of our own, and a takeover that deletes it first makes this update nothing (lost).
        await using var connection = await OpenConnectionAsync(cancellationToken);
        var renewed = await ExecuteAsync(connection, null,
            "UPDATE nodes SET lease_until = clock_timestamp() + @duration WHERE node_id = @node AND fence = @fence AND lease_until > clock_timestamp()",
            cancellationToken, ("duration", duration), ("node", lease.NodeId), ("fence", lease.Fence)) == 1;
        if (!renewed)
        {
            // Lost (expired, taken over, or the id started elsewhere): nothing more is written under this fence.
            Interlocked.CompareExchange(ref _lease, null, lease);
        }

        return renewed;
    }

    public async Task<IReadOnlyList<NodeLease>> ExpiredLeasesAsync(CancellationToken cancellationToken) =>
        await ReadAsync("SELECT node_id, fence FROM nodes WHERE lease_until < clock_timestamp() AND node_id IS DISTINCT FROM @me ORDER BY lease_until",
            r => new NodeLease(r.GetString(0), r.GetInt64(1)), cancellationToken, ("me", Lease?.NodeId));

    public Task<NodeTakeover?> TakeOverAsync(NodeLease dead, Func<IReadOnlyList<StoredRun>, IReadOnlyList<RunTransition>> close, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dead);
        ArgumentNullException.ThrowIfNull(close);
        return WriteAsync<NodeTakeover?>(async (connection, transaction) =>
        {
            if (Lease is not { } me)
            {
                return (false, null);
            }

            // Under the write lock, so exactly once: a second survivor finds the row gone, and a node that renewed in time
            // (or restarted with a new fence) is not dead.
            var stillDead = await ReadAsync(connection, transaction,
                "DELETE FROM nodes WHERE node_id = @node AND fence = @fence AND lease_until < clock_timestamp() RETURNING 1",
                _ => 1, cancellationToken, ("node", dead.NodeId), ("fence", dead.Fence));
            if (stillDead.Count == 0)
            {
                return (false, null);
            }

            // Its open rows become ours first, so the close below is an owner's end under our fence like any other.
            var taken = await ReadAsync(connection, transaction,
                $"UPDATE runs SET owner_node = @me, fence = @myFence WHERE owner_node = @node AND state <> 'completed' RETURNING {RunColumns}",
                ReadRun, cancellationToken, ("me", me.NodeId), ("myFence", me.Fence), ("node", dead.NodeId));
            var running = taken.Where(r => r.State != "queued").ToList();
            foreach (var transition in close(running))
            {
                if (!await ApplyAsync(connection, transaction, transition, cancellationToken))
                {
                    // A row we just took cannot have an end already; if it does, nothing of this takeover is written.
                    throw new InvalidOperationException($"taking over node {dead.NodeId}: a run it owned could not be closed");
                }
            }

            return (true, new NodeTakeover(dead, [.. running.Select(r => r.RunId)], [.. taken.Where(r => r.State == "queued")]));
        }, cancellationToken);
    }

    public async Task<bool> RequestCancelAsync(string runId, string reason, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentException.ThrowIfNullOrEmpty(reason);

        // No write lock: one column of one row, which no audit record depends on; the owner's end, under the lock, wins.
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ExecuteAsync(connection, null,
            "UPDATE runs SET cancel_requested = COALESCE(cancel_requested, @reason) WHERE run_id = @run AND state <> 'completed'",
            cancellationToken, ("run", runId), ("reason", reason)) == 1;
    }

    public async Task<IReadOnlyList<CancelRequest>> CancelRequestsAsync(CancellationToken cancellationToken) =>
        Lease is not { } lease
            ? []
            : await ReadAsync("SELECT run_id, cancel_requested FROM runs WHERE owner_node = @node AND state <> 'completed' AND cancel_requested IS NOT NULL",
                r => new CancelRequest(r.GetString(0), r.GetString(1)), cancellationToken, ("node", lease.NodeId));

    public async Task ReleaseLeaseAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _lease, null) is not { } lease)
        {
            return;
        }

        await WriteAsync(async (connection, transaction) =>
        {
            await ExecuteAsync(connection, transaction,
                """
                DELETE FROM nodes WHERE node_id = @node AND fence = @fence
                    AND NOT EXISTS (SELECT 1 FROM runs WHERE owner_node = @node AND state <> 'completed');
                UPDATE nodes SET lease_until = clock_timestamp() WHERE node_id = @node AND fence = @fence
                """,
                cancellationToken, ("node", lease.NodeId), ("fence", lease.Fence));
            return (true, 0);
        }, cancellationToken);
    }
}
