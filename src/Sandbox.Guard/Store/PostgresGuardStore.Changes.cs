using Npgsql;

namespace Sandbox.Guard.Store;

/// <summary>Guard decisions announced with <c>NOTIFY guard_changed</c>, for every node's watcher (issue 15, point 3).</summary>
public sealed partial class PostgresGuardStore : IGuardChangeFeed
{
    /// <summary>The channel guard decisions are announced on.</summary>
    internal const string GuardChangedChannel = "guard_changed";

    /// <summary>How long the listener waits for a notification before it checks its connection is still alive.</summary>
    private static readonly TimeSpan ListenCheckInterval = TimeSpan.FromSeconds(10);

    public Task ListenAsync(Action<string> changed, Action listening, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changed);
        ArgumentNullException.ThrowIfNull(listening);
        return ListenOnAsync(GuardChangedChannel, changed, listening, cancellationToken);
    }

    /// <summary>Listens on <paramref name="channel"/> (a constant of ours, never caller input) until cancelled or the connection fails.</summary>
    private async Task ListenOnAsync(string channel, Action<string> changed, Action listening, CancellationToken cancellationToken)
    {
        // A connection of its own, held while listening: a pooled connection given back would drop the subscription.
        await using var connection = await OpenConnectionAsync(cancellationToken);
        connection.Notification += (_, e) => changed(e.Payload);
        await ExecuteAsync(connection, null, "LISTEN " + channel, cancellationToken);
        listening();
        while (true)
        {
            // A quiet channel and a dead server look alike from here: after each quiet interval a round trip tells them
            // apart, and a lost connection throws so the caller listens again (its poll covers the gap).
            if (!await connection.WaitAsync(ListenCheckInterval, cancellationToken))
            {
                await ExecuteAsync(connection, null, "SELECT 1", cancellationToken);
            }
        }
    }

    /// <summary>
    /// Announces a guard decision inside its write transaction: PostgreSQL delivers it only if, and once, the transaction
    /// commits, so a listener never acts on a decision that was rolled back.
    /// </summary>
    private static Task<int> NotifyGuardChangedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string change, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction, "SELECT pg_notify(@channel, @change)", cancellationToken, ("channel", GuardChangedChannel), ("change", change));
}
