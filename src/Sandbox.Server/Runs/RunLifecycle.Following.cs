using Sandbox.Guard.Policy;

namespace Sandbox.Server.Runs;

/// <summary>A run's event stream on a node that does not hold it in memory (issue 15, point 2): read from its row and persisted output.</summary>
internal sealed partial class RunLifecycle
{
    /// <summary>
    /// The stored events of a run this node does not hold (another node runs it, or it ended before a restart), for its own
    /// agent (or task token) only, as <see cref="FindViewAsync"/>; null when the store does not know it for this caller.
    /// </summary>
    public async Task<StoredRunEvents?> FollowStoredAsync(string id, Principal principal, CancellationToken cancellationToken)
    {
        var stored = await _store.FindRunAsync(id, cancellationToken);
        return stored is not null && Owns(principal, stored) ? new StoredRunEvents(_store, _time, id, row => StoredView(row, principal)) : null;
    }
}
