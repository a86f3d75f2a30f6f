namespace Sandbox.Guard.Store;

/// <summary>
/// A store that tells its readers at once when a guard decision is committed anywhere (an agent revoked, a key rotated, an
/// approval decided, an agent held or released), so a node acts on it without waiting for its next poll. Optional: a
/// store without it (SQLite, one machine) is polled only.
/// </summary>
public interface IGuardChangeFeed
{
    /// <summary>
    /// Listens on a connection of its own until <paramref name="cancellationToken"/> ends it, calling
    /// <paramref name="changed"/> with each change's short description (<c>revoked:agt_…</c>) after its transaction
    /// committed. <paramref name="listening"/> is called once the subscription is in place, so the caller can catch up on
    /// anything committed before it.
    /// </summary>
    /// <exception cref="Exception">The connection failed or was lost: notifications are not durable, so the caller polls
    /// and listens again.</exception>
    Task ListenAsync(Action<string> changed, Action listening, CancellationToken cancellationToken);
}
