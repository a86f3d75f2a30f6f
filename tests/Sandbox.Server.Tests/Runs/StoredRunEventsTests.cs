using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Sandbox.Core.Runs;
using Sandbox.Guard.Store;
using Sandbox.Server.Http;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Tests.Runs;

/// <summary>
/// A run's events read from the store on a node that does not hold it (issue 15, point 2), against a real SQLite store and
/// fake time: output pages through in order and once, what the end took from the persisted output comes from the view, and
/// Last-Event-ID resumes at the same positions in both.
/// </summary>
public sealed class StoredRunEventsTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Now);
    private readonly string _path = Path.Join(Path.GetTempPath(), "stored-events-" + Guid.NewGuid().ToString("N") + ".db");
    private SqliteGuardStore? _store;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReadAsync_MorePersistedChunksThanAPage_EachOnceInOrder_ThenTheViewsTail_ThenTheResult()
    {
        var store = await StoreAsync();
        var runId = await RunningAsync(store);
        var lines = Enumerable.Range(0, (3 * StoredRunEvents.PageSize) + 5).Select(i => $"line {i}\n").ToList();
        foreach (var line in lines)
        {
            await store.AppendRunOutputAsync([new(runId, false, Encoding.UTF8.GetBytes(line))], Ct);
        }

        await store.AppendRunOutputAsync([new(runId, true, "warn\n"u8.ToArray())], Ct);
        var reading = ReadAllAsync(store, runId, from: 0);
        await SeenAsync(reading, 1 + lines.Count + 1);

        // The end deletes the chunks; what the follower did not read (the last line) is in the view only.
        await CompleteAsync(store, runId, stdout: string.Concat(lines) + "last\n", stderr: "warn\n", exitCode: 3);
        var events = await WhenReadAsync(reading, untilPolls: 20);

        events[0].ShouldBe(new StoredRunEvent(0, "state", "running", null));
        string.Concat(events.Where(e => e.Kind == "stdout").Select(e => e.Text)).ShouldBe(string.Concat(lines) + "last\n");
        events.Where(e => e.Kind == "stdout").SkipLast(1).Count().ShouldBe(lines.Count, "one event per persisted chunk");
        events.Single(e => e.Kind == "stderr").Text.ShouldBe("warn\n");
        events.Select(e => e.Sequence).ShouldBeInOrder(SortDirection.Ascending);
        events.Select(e => e.Sequence).Distinct().Count().ShouldBe(events.Count);
        var result = events[^1];
        result.Kind.ShouldBe("result");
        result.Result.ShouldNotBeNull().Result.ShouldNotBeNull().ExitCode.ShouldBe(3);
        result.Sequence.ShouldBe(1 + string.Concat(lines).Length + "last\n".Length + "warn\n".Length, "one position per state and result, one per character");
    }

    [Fact]
    public async Task ReadAsync_ResumedAfterAnId_GetsExactlyTheRest_WhetherTheRunIsOpenOrEnded()
    {
        var store = await StoreAsync();
        var runId = await RunningAsync(store);
        await store.AppendRunOutputAsync([new(runId, false, "hello "u8.ToArray())], Ct);
        await store.AppendRunOutputAsync([new(runId, false, "world\n"u8.ToArray())], Ct);

        // Position 0 is the state; "hello " is 1..6: resumed after 3, the follower gets "lo " then "world\n".
        var open = ReadAllAsync(store, runId, from: 4);
        await store.AppendRunOutputAsync([new(runId, false, "bye\n"u8.ToArray())], Ct);
        await CompleteAsync(store, runId, stdout: "hello world\nbye\n", stderr: "", exitCode: 0);
        var live = await WhenReadAsync(open, untilPolls: 20);
        string.Concat(live.Where(e => e.Kind == "stdout").Select(e => e.Text)).ShouldBe("lo world\nbye\n");
        live.ShouldNotContain(e => e.Kind == "state", "the reader saw it before it left");

        var ended = await WhenReadAsync(ReadAllAsync(store, runId, from: 4), untilPolls: 1);
        string.Concat(ended.Where(e => e.Kind == "stdout").Select(e => e.Text)).ShouldBe("lo world\nbye\n", "the same positions from the view");
        ended[^1].Sequence.ShouldBe(live[^1].Sequence);

        var past = await WhenReadAsync(ReadAllAsync(store, runId, from: 10_000), untilPolls: 1);
        past.ShouldHaveSingleItem().Kind.ShouldBe("result");
        past[0].Sequence.ShouldBe(live[^1].Sequence, "past the end: the result again, under its own id");
    }

    [Fact]
    public async Task ReadAsync_ACharacterSplitAcrossChunks_IsSentWholeOnce_AndAViewThatCutTheOutput_AddsNoTail()
    {
        var store = await StoreAsync();
        var runId = await RunningAsync(store);
        var euro = "€"u8.ToArray();
        await store.AppendRunOutputAsync([new(runId, false, new byte[] { (byte)'a', euro[0] })], Ct);
        await store.AppendRunOutputAsync([new(runId, false, new byte[] { euro[1], euro[2], (byte)'\n' })], Ct);
        var reading = ReadAllAsync(store, runId, from: 0);
        await SeenAsync(reading, 3);

        // A view that does not begin with what was sent (its budget cut the middle out): the result carries it, no guessing.
        await CompleteAsync(store, runId, stdout: "[output cut] a€\nmore\n", stderr: "", exitCode: 0);
        var events = await WhenReadAsync(reading, untilPolls: 20);

        events.Where(e => e.Kind == "stdout").Select(e => e.Text).ShouldBe(["a", "€\n"]);
        events[^1].Result.ShouldNotBeNull().Result.ShouldNotBeNull().Stdout.ShouldBe("[output cut] a€\nmore\n");
    }

    [Fact]
    public async Task ReadAsync_RowDeletedWhileFollowed_EndsWithoutAResult()
    {
        var store = await StoreAsync();
        var runId = await RunningAsync(store, expiresAt: Now.AddSeconds(1));
        var reading = ReadAllAsync(store, runId, from: 0);
        await WhenReadAsync(reading, untilPolls: 2);

        (await store.DeleteExpiredRunsAsync(Now.AddMinutes(1), 10, Ct)).ShouldBe(1);
        var events = await WhenReadAsync(reading, untilPolls: 5);

        events.ShouldHaveSingleItem().Kind.ShouldBe("state");
    }

    [Fact]
    public async Task ReadAsync_ClientGone_StopsPollingAtOnce_WithoutWaitingForTheRun()
    {
        var store = await StoreAsync();
        var runId = await RunningAsync(store);
        using var client = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var events = new StoredRunEvents(store, _time, runId, row => JsonSerializer.Deserialize(row.View!, ServerJsonContext.Default.RunView)!);
        var seen = 0;
        var reading = Task.Run(async () =>
        {
            await foreach (var e in events.ReadAsync(0, client.Token))
            {
                seen++;
            }
        }, Ct);
        await Task.WhenAny(reading, Task.Delay(300, Ct));
        reading.IsCompleted.ShouldBeFalse("an open run is followed until it ends");

        await client.CancelAsync();

        // No fake time advanced: the wait between polls itself ends on the client's token.
        await Should.ThrowAsync<OperationCanceledException>(reading.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        seen.ShouldBe(1, "the running state only");
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(_path)!, Path.GetFileName(_path) + "*"))
        {
            File.Delete(file);
        }
    }

    private async Task<SqliteGuardStore> StoreAsync() => _store = await SqliteGuardStore.OpenAsync(_path, _time, Ct);

    private static async Task<string> RunningAsync(SqliteGuardStore store, DateTimeOffset? expiresAt = null)
    {
        var runId = "run_" + Guid.NewGuid().ToString("N");
        await store.AdmitRunAsync(new StoredRun
        {
            RunId = runId,
            AgentId = "agt_a",
            CredentialId = "cred_1",
            State = "queued",
            CreatedAt = Now,
            ExpiresAt = expiresAt ?? Now.AddMinutes(15),
        }, receipt: null, Ct);
        (await store.CommitAsync(new RunTransition { Move = new RunStateChange(runId, "running") }, Ct)).ShouldBeTrue();
        return runId;
    }

    private static async Task CompleteAsync(SqliteGuardStore store, string runId, string stdout, string stderr, int exitCode)
    {
        var view = new RunView
        {
            Id = runId,
            State = "completed",
            CreatedAt = Now,
            StartedAt = Now,
            CompletedAt = Now,
            Result = new RunResult { RunId = runId, Status = RunStatus.Ok, ExitCode = exitCode, Stdout = stdout, Stderr = stderr },
        };
        (await store.CompleteRunAsync(runId, "ok", null, Now, JsonSerializer.Serialize(view, ServerJsonContext.Default.RunView), null, Ct)).ShouldBeTrue();
    }

    private (Task<List<StoredRunEvent>> Task, List<StoredRunEvent> Seen) ReadAllAsync(SqliteGuardStore store, string runId, long from)
    {
        var seen = new List<StoredRunEvent>();
        var events = new StoredRunEvents(store, _time, runId, row => JsonSerializer.Deserialize(row.View!, ServerJsonContext.Default.RunView)!);
        async Task<List<StoredRunEvent>> Collect()
        {
            await foreach (var e in events.ReadAsync(from, Ct))
            {
                lock (seen)
                {
                    seen.Add(e);
                }
            }

            return seen;
        }

        return (Task.Run(Collect, Ct), seen);
    }

    /// <summary>Waits (in real time: the first reads need no poll) until the follower has sent <paramref name="count"/> events.</summary>
    private static async Task SeenAsync((Task<List<StoredRunEvent>> Task, List<StoredRunEvent> Seen) reading, int count)
    {
        for (var waited = 0; waited < 10_000; waited += 20)
        {
            lock (reading.Seen)
            {
                if (reading.Seen.Count >= count)
                {
                    return;
                }
            }

            await Task.Delay(20, Ct);
        }

        throw new TimeoutException($"the follower did not send {count} events");
    }

    /// <summary>Lets the follower poll: advances fake time one interval at a time until it ends or has polled that many more times.</summary>
    private async Task<List<StoredRunEvent>> WhenReadAsync((Task<List<StoredRunEvent>> Task, List<StoredRunEvent> Seen) reading, int untilPolls)
    {
        for (var i = 0; i < untilPolls && !reading.Task.IsCompleted; i++)
        {
            // Real time for the store's reads to land, fake time for the follower's wait between polls.
            await Task.WhenAny(reading.Task, Task.Delay(100, Ct));
            _time.Advance(StoredRunEvents.PollInterval);
        }

        await Task.WhenAny(reading.Task, Task.Delay(200, Ct));
        lock (reading.Seen)
        {
            return [.. reading.Seen];
        }
    }
}
