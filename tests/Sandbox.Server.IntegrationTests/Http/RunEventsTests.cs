using System.Text;
using System.Text.Json.Nodes;
using Sandbox.Core.Execution;
using Sandbox.Core.Runs;
using Sandbox.Server.IntegrationTests.Guard;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Server.Runs;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>
/// GET /v1/runs/{id}/events under a flood of tiny writes: adjacent output is merged into a bounded number of stored
/// events, every byte still reaches the stream, and Last-Event-ID resumes exactly where the reader left off.
/// </summary>
public sealed class RunEventsTests : IClassFixture<SandboxApiFactory>
{
    /// <summary>100 000 one-byte writes (bash's printf builtin writes each at once), cycling through ten letters so offsets show.</summary>
    private const string OneByteWrites = "s=abcdefghij; for ((i=0; i<100000; i++)); do printf %s \"${s:i%10:1}\"; done";

    private readonly SandboxApiFactory _factory;

    public RunEventsTests(SandboxApiFactory factory) => _factory = factory;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>
    /// Attack: a program makes 100 000 one-byte writes; each was one stored event kept for the retention time.
    /// Expected: a bounded number of events (here a handful), the streamed stdout equal to the program's stdout, and
    /// Last-Event-ID resuming both after an event and in the middle of a merged one.
    /// </summary>
    [Fact]
    public async Task Events_100000OneByteWrites_AreMergedIntoFewEvents_AndEveryByteIsStreamed()
    {
        using var client = _factory.CreateClient();
        var id = (string)(await (await client.PostRunAsync(new { language = "bash", code = OneByteWrites, @async = true, rawOutput = true })).JsonAsync())["id"]!;
        var done = await client.WaitForStateAsync(id, "completed", TimeSpan.FromSeconds(60));
        ((string?)done["result"]!["status"]).ShouldBe("ok", done.ToJsonString());
        var stdout = Encoding.UTF8.GetString(Convert.FromBase64String((string)done["raw"]!["stdout"]!));
        stdout.Length.ShouldBe(100_000);
        var entry = _factory.Coordinator().Find(id, _factory.DefaultPrincipal).ShouldNotBeNull();

        var events = await ReadEventsAsync(client, id, lastEventId: null);

        TestContext.Current.TestOutputHelper?.WriteLine($"stored events: {entry.EventCount}");
        // An event is closed when the next chunk read would not fit in it, so how full each is depends on how the reads split
        // the stream (CI once stored 8 stdout events where 7 would hold the bytes): bounded by the bytes, never by the writes.
        entry.EventCount.ShouldBeLessThanOrEqualTo(2 + (2 * ((100_000 / RunEntry.MaxEventChars) + 1)), "merged up to MaxEventChars each, plus running and result");
        events.Count.ShouldBe(entry.EventCount);
        string.Concat(events.Where(e => e.Kind == "stdout").Select(e => e.Text)).ShouldBe(stdout);
        events.Select(e => e.Id).ShouldBeInOrder(SortDirection.Ascending);
        events.Select(e => e.Id).Distinct().Count().ShouldBe(events.Count);
        events[^1].Kind.ShouldBe("result");

        // After a whole event: the rest, exactly.
        var firstOut = events.First(e => e.Kind == "stdout");
        var afterFirst = await ReadEventsAsync(client, id, firstOut.Id);
        string.Concat(afterFirst.Where(e => e.Kind == "stdout").Select(e => e.Text)).ShouldBe(stdout[firstOut.Text.Length..]);

        // In the middle of a merged event (a reader that saw it while it was shorter): from the next character on.
        var start = firstOut.Id - firstOut.Text.Length + 1;
        foreach (var middle in new[] { firstOut.Id - 5_000, firstOut.Id + 12_345 })
        {
            var resumed = await ReadEventsAsync(client, id, middle);
            string.Concat(resumed.Where(e => e.Kind == "stdout").Select(e => e.Text)).ShouldBe(stdout[(int)(middle + 1 - start)..], $"resumed after {middle}");
            resumed[^1].Kind.ShouldBe("result");
        }
    }

    /// <summary>
    /// A reader that saw an event before it grew gets only what was added, under the same kind of id; and a program
    /// alternating stdout and stderr one byte at a time, which no merging helps, still stores at most MaxEvents.
    /// </summary>
    [Fact]
    public void ReadEvents_AnEventThatGrewAfterItWasRead_ComesBackAsItsNewPartOnly_AndAlternatingStreamsAreBounded()
    {
        var entry = NewEntry();
        entry.Write(OutputStreamKind.Stdout, "ab"u8);
        var (first, _) = entry.ReadEvents(0);
        var seen = first.ShouldHaveSingleItem();
        seen.Text.ShouldBe("ab");

        entry.Write(OutputStreamKind.Stdout, "c"u8);
        entry.Write(OutputStreamKind.Stdout, "de"u8);
        var (more, _) = entry.ReadEvents(seen.Sequence + 1);

        more.ShouldHaveSingleItem().Text.ShouldBe("cde");
        more[0].Sequence.ShouldBeGreaterThan(seen.Sequence);
        entry.EventCount.ShouldBe(1);

        var flood = NewEntry();
        for (var i = 0; i < 100_000; i++)
        {
            flood.Write(i % 2 == 0 ? OutputStreamKind.Stdout : OutputStreamKind.Stderr, "x"u8);
        }

        flood.EventCount.ShouldBeLessThanOrEqualTo(RunEntry.MaxEvents);
    }

    private RunEntry NewEntry()
    {
        var (plan, errors) = _factory.Coordinator().Plan(new RunRequest { Language = "bash", Code = "true" }, _factory.DefaultPrincipal);
        errors.ShouldBeEmpty();
        return new RunEntry(_factory.DefaultPrincipal, plan!, DateTimeOffset.UnixEpoch, 0, rawOutput: false, maxStreamedBytes: 1 << 20);
    }

    /// <summary>
    /// A standard EventSource reconnects a few seconds after the final event, with that event's id: the stream must answer
    /// at once with the result again and close, not wait for output that will never come (it hung for 300 s before).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Events_ResumedAtOrPastTheEndOfACompletedRun_GetTheResultAtOnce(bool pastTheEnd)
    {
        using var client = _factory.CreateClient();
        var id = (string)(await (await client.PostRunAsync(new { language = "bash", code = "echo done" })).JsonAsync())["id"]!;
        var all = await ReadEventsAsync(client, id, lastEventId: null);
        var resultId = all[^1].Id;

        var resumed = await ReadEventsAsync(client, id, lastEventId: pastTheEnd ? resultId + 1_000_000 : resultId).WaitAsync(TimeSpan.FromSeconds(10), Token);

        resumed.Count.ShouldBe(1);
        resumed[0].Kind.ShouldBe("result");
        resumed[0].Id.ShouldBe(resultId);
    }

    private static async Task<List<(long Id, string Kind, string Text)>> ReadEventsAsync(HttpClient client, string id, long? lastEventId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{id}/events");
        if (lastEventId is { } last)
        {
            request.Headers.Add("Last-Event-ID", last.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Token);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Token));
        var events = new List<(long, string, string)>();
        long eventId = -1;
        string? kind = null;
        while (await reader.ReadLineAsync(Token) is { } line)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                eventId = long.Parse(line["id: ".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                kind = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                var data = JsonNode.Parse(line["data: ".Length..])!;
                events.Add((eventId, kind!, kind == "result" ? "" : (string?)data["text"] ?? ""));
                if (kind == "result")
                {
                    break;
                }
            }
        }

        return events;
    }
}
