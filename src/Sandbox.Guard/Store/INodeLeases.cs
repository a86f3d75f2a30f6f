namespace Sandbox.Guard.Store;

/// <summary>
/// Node leases with a fencing token, for a store several <c>sandbox serve</c> nodes share (issue 15, point 5). A node holds
/// a lease it renews; each lease start takes a new fence from a sequence, and every run the node admits is stamped with its
/// node id and fence. When a lease expires (the node died, or lost the database), one surviving node takes its runs over in
/// one transaction: the running ones are closed as interrupted, the queued ones become its own. Every end of a run is
/// written only by its owner under its current fence, so a late result from a node that was taken over changes nothing.
/// </summary>
/// <remarks>
/// Only the PostgreSQL store implements it. The SQLite store is one node by construction (one file on one host, shared at
/// most with that host's CLI): a lease there could never expire into a survivor, so it would be ceremony whose contract
/// test proves nothing. Its rows have no owner, and the end-of-run fence is vacuous for them.
/// Lease times are the database's clock (<c>clock_timestamp()</c>), never a node's: expiry is judged by one clock, so a
/// node whose clock runs ahead cannot declare a live node dead.
/// </remarks>
public interface INodeLeases
{
    /// <summary>This store's lease: the node and fence its admissions are stamped with; null before one is taken.</summary>
    NodeLease? Lease { get; }

    /// <summary>
    /// Starts this node's lease (a new fence) for <paramref name="duration"/>, recording what it serves; a node that
    /// restarts under the same id takes back its own open rows under the new fence (its older process is gone). Null, with
    /// nothing written, while another process holds a live lease under the same id: two live nodes must never share one
    /// (each would fence the other out); a restart after a crash gets it once the old lease has run out.
    /// </summary>
    Task<NodeLease?> AcquireLeaseAsync(string nodeId, NodeServes serves, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>Extends the lease; false when it was lost (taken over, or restarted elsewhere): take a new one.</summary>
    Task<bool> RenewLeaseAsync(TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>Leases of other nodes past their time, by the database's clock.</summary>
    Task<IReadOnlyList<NodeLease>> ExpiredLeasesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Takes over the node of <paramref name="dead"/> in one transaction, under the write lock, exactly once: only while its
    /// lease is still the expired one given, and not yet taken over. Its open rows become this node's (this fence); the
    /// ones that are not <c>queued</c> are closed with the transitions <paramref name="close"/> builds (the same close as
    /// start-up reconciliation); its lease row goes. Null when there is nothing to do (already taken over, or renewed).
    /// </summary>
    Task<NodeTakeover?> TakeOverAsync(NodeLease dead, Func<IReadOnlyList<StoredRun>, IReadOnlyList<RunTransition>> close, CancellationToken cancellationToken);

    /// <summary>
    /// Asks the owner of an open run to cancel it, with <paramref name="reason"/> (a DELETE that reached another node);
    /// false when the run is not open (it ended first). The owner finds it with <see cref="CancelRequestsAsync"/>.
    /// </summary>
    Task<bool> RequestCancelAsync(string runId, string reason, CancellationToken cancellationToken);

    /// <summary>This node's open runs that a DELETE on another node asked to cancel.</summary>
    Task<IReadOnlyList<CancelRequest>> CancelRequestsAsync(CancellationToken cancellationToken);

    /// <summary>At a clean stop: the lease row goes when the node owns no open run, else expires now so a survivor takes them at once.</summary>
    Task ReleaseLeaseAsync(CancellationToken cancellationToken);
}

/// <summary>A node's lease: its id and the fence its runs are stamped with.</summary>
public sealed record NodeLease(string NodeId, long Fence);

/// <summary>What a node can run: its backends and the images or modules of its profiles (recorded with its lease).</summary>
public sealed record NodeServes(IReadOnlyList<string> Backends, IReadOnlyList<string> Images)
{
    public static readonly NodeServes Nothing = new([], []);
}

/// <summary>A cancellation asked of a run's owner by another node.</summary>
public sealed record CancelRequest(string RunId, string Reason);

/// <summary>A takeover's outcome: the runs closed as interrupted, and the queued runs now this node's to run.</summary>
public sealed record NodeTakeover(NodeLease Dead, IReadOnlyList<string> Closed, IReadOnlyList<StoredRun> Queued);
