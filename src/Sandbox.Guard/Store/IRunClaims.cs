using System.Text.Json;

namespace Sandbox.Guard.Store;

/// <summary>
/// Work claimed, not pushed (issue 15, point 2), for a store several nodes share. A node that admits a run it cannot start
/// at once writes it <c>queued</c> with no owner and with what it <see cref="RunNeeds">needs</see>; every node with a free
/// slot claims such rows it can execute, oldest first, and owns them from then on (its node id and fence, as an admission
/// stamps them), so exactly one node runs each. An offer is announced (<c>NOTIFY runs_queued</c>) in the admission's
/// transaction; a poll covers a lost announcement.
/// </summary>
/// <remarks>
/// Only the PostgreSQL store implements it, beside <see cref="INodeLeases"/>: a claim is fenced by the claimer's live lease.
/// A row with no owner and no needs (a CLI's, or written before migration 7) is never claimed: nobody offered it.
/// </remarks>
public interface IRunClaims
{
    /// <summary>
    /// Claims up to <paramref name="max"/> offered runs this node serves (the backends and images recorded with its lease),
    /// oldest first, in one transaction that takes no write lock: rows another claimer holds are skipped, never waited for,
    /// so two claimers never get the same run. Empty without a live lease.
    /// </summary>
    Task<IReadOnlyList<ClaimedRun>> ClaimAsync(int max, CancellationToken cancellationToken);

    /// <summary>
    /// Claims the one offered run <paramref name="runId"/> when it is still unclaimed and this node serves it, as
    /// <see cref="ClaimAsync"/> does (a node about to cancel it ends it itself rather than wait for a free slot somewhere);
    /// null otherwise.
    /// </summary>
    Task<ClaimedRun?> ClaimOfferedAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Listens on a connection of its own for offers (<c>runs_queued</c>) until <paramref name="cancellationToken"/> ends it,
    /// calling <paramref name="queued"/> on each; <paramref name="listening"/> once the subscription is in place.
    /// </summary>
    /// <exception cref="Exception">The connection failed or was lost: the caller polls and listens again.</exception>
    Task ListenQueuedAsync(Action queued, Action listening, CancellationToken cancellationToken);
}

/// <summary>A run this node claimed (now its own), and the reason a DELETE on another node asked to cancel it before, if one did.</summary>
public sealed record ClaimedRun(StoredRun Run, string? CancelRequested);

/// <summary>
/// What an offered run needs of the node that claims it, as a JSON array of strings (<c>backend:docker</c>,
/// <c>image:sandbox-python:3.12</c>): a claim takes a row only when its needs are contained in what the node serves.
/// </summary>
public static class RunNeeds
{
    /// <summary>The needs of a run on <paramref name="backend"/> with the image or module <paramref name="image"/> (empty: none).</summary>
    public static string Of(string backend, string image)
    {
        ArgumentException.ThrowIfNullOrEmpty(backend);
        ArgumentNullException.ThrowIfNull(image);
        return JsonSerializer.Serialize<string[]>(image.Length > 0 ? ["backend:" + backend, "image:" + image] : ["backend:" + backend]);
    }

    /// <summary>Everything a node serves, in the same form: a run's needs are claimable here when contained in it.</summary>
    public static string Of(NodeServes serves)
    {
        ArgumentNullException.ThrowIfNull(serves);
        return JsonSerializer.Serialize<string[]>([.. serves.Backends.Select(b => "backend:" + b), .. serves.Images.Select(i => "image:" + i)]);
    }
}
