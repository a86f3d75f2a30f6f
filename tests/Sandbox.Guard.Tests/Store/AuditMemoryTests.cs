using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Tests.Store;

/// <summary>
/// The operator's audit calls stay bounded in memory however large the log grows. Measured with the process's
/// total allocations, so the collection runs alone.
/// </summary>
[Collection(nameof(AuditMemoryTests))]
[CollectionDefinition(nameof(AuditMemoryTests), DisableParallelization = true)]
public sealed class AuditMemoryTests : TempDatabase
{
    private const int Records = 50_000;
    private const int DataChars = 2_000;

    [Fact]
    public async Task VerifyAuditAsync_FiftyThousandRecords_AllocatesFarLessThanTheLog()
    {
        var store = await OpenAsync();
        await FillAsync(Records);
        var logBytes = new FileInfo(DatabasePath).Length;

        await store.VerifyAuditAsync(Ct); // warm up: connection pool, JIT
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        var verification = await store.VerifyAuditAsync(Ct);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        verification.Intact.ShouldBeTrue(verification.Problem);
        verification.RecordsChecked.ShouldBe(Records);
        TestContext.Current.TestOutputHelper?.WriteLine($"verify over {Records} records: log {logBytes / 1024 / 1024} MiB, allocated {allocated / 1024 / 1024} MiB in {watch.ElapsedMilliseconds} ms");
        // The data alone is 100 MB as UTF-16 strings; what is left is a few small strings per record.
        allocated.ShouldBeLessThan(logBytes / 2);
    }

    /// <summary>Writes a valid chain straight into the file in one transaction (appending one by one would take minutes).</summary>
    private async Task FillAsync(int count)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync(Ct);
        await using var transaction = connection.BeginTransaction();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO audit (seq, time, kind, agent_id, run_id, status, data, prev_hash, hash) VALUES ($seq, $time, 'result', 'agt_1', $run, 'ok', $data, $prev, $hash)";
        var seq = command.Parameters.Add("$seq", SqliteType.Integer);
        var time = command.Parameters.Add("$time", SqliteType.Text);
        var run = command.Parameters.Add("$run", SqliteType.Text);
        var data = command.Parameters.Add("$data", SqliteType.Text);
        var prev = command.Parameters.Add("$prev", SqliteType.Text);
        var hash = command.Parameters.Add("$hash", SqliteType.Text);
        var previous = AuditChain.Genesis;
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var payload = "{\"code\":\"" + new string('x', DataChars) + "\"}";
        for (long i = 1; i <= count; i++)
        {
            var at = AuditChain.FormatTime(start.AddSeconds(i));
            var runId = $"run_{i}";
            var h = AuditChain.ComputeHash(i, at, "result", "agt_1", runId, "ok", payload, previous);
            seq.Value = i;
            time.Value = at;
            run.Value = runId;
            data.Value = payload;
            prev.Value = previous;
            hash.Value = h;
            await command.ExecuteNonQueryAsync(Ct);
            previous = h;
        }

        await transaction.CommitAsync(Ct);
    }
}
