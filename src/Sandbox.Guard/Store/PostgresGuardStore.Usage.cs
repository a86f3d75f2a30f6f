using System.Data.Common;
using Npgsql;

namespace Sandbox.Guard.Store;

/// <summary>Usage counters per subject and period.</summary>
public sealed partial class PostgresGuardStore
{
    public async Task<Usage> GetUsageAsync(string subject, string period, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(period);
        var rows = await ReadAsync("SELECT runs, cpu_ms, stored_bytes FROM usage WHERE subject = @subject AND period = @period",
            reader => new Usage(checked((int)reader.GetInt64(0)), reader.GetInt64(1), reader.GetInt64(2)), cancellationToken,
            ("subject", subject), ("period", period));
        return rows.Count == 0 ? Usage.Zero : rows[0];
    }

    /// <remarks>One upsert statement, so concurrent adds from several processes never lose one another.</remarks>
    public async Task AddUsageAsync(string subject, string period, int runs, long cpuMs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(period);

        await using var connection = await OpenConnectionAsync(cancellationToken);
        await AddUsageAsync(connection, null, new UsageCharge(subject, period, runs, cpuMs), cancellationToken);
    }

    private static Task<int> AddUsageAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, UsageCharge charge, CancellationToken cancellationToken)
    {
        // Usage only grows: a negative amount would hand budget back, which no caller should do.
        ArgumentOutOfRangeException.ThrowIfNegative(charge.Runs);
        ArgumentOutOfRangeException.ThrowIfNegative(charge.CpuMs);
        ArgumentOutOfRangeException.ThrowIfNegative(charge.StoredBytes);
        return ExecuteAsync(connection, transaction,
            "INSERT INTO usage (subject, period, runs, cpu_ms, stored_bytes) VALUES (@subject, @period, @runs, @cpu, @stored) " +
            "ON CONFLICT (subject, period) DO UPDATE SET runs = usage.runs + excluded.runs, cpu_ms = usage.cpu_ms + excluded.cpu_ms, stored_bytes = usage.stored_bytes + excluded.stored_bytes",
            cancellationToken, ("subject", charge.Subject), ("period", charge.Period), ("runs", charge.Runs), ("cpu", charge.CpuMs), ("stored", charge.StoredBytes));
    }
}
