using System.Text.Json;
using Sandbox.Cli.Hosting;
using Sandbox.Cli.Tests.Support;
using Sandbox.Guard.Audit;

namespace Sandbox.Cli.Tests.Commands;

[Collection(nameof(ConsoleUsers))]
public sealed class AuditCommandTests : IDisposable
{
    private readonly GuardCli _cli = new();

    [Fact]
    public async Task Verify_IntactChain_Exits0WithCountAndHead()
    {
        await _cli.CreateAgentAsync("alpha");
        await _cli.CreateAgentAsync("beta");
        (await _cli.RunAsync("agents", "rotate", "beta")).Code.ShouldBe(0);

        var output = await _cli.RunAsync("audit", "verify");
        var json = await _cli.RunAsync("audit", "verify", "--json");

        output.Code.ShouldBe(0, output.ToString());
        output.Stdout.ShouldStartWith("audit chain intact: 3 records, head ");
        using var result = JsonDocument.Parse(json.Stdout);
        result.RootElement.GetProperty("intact").GetBoolean().ShouldBeTrue();
        output.Stdout.ShouldContain(result.RootElement.GetProperty("headHash").GetString()!);
    }

    [Fact]
    public async Task Verify_EmptyStore_IsIntact()
    {
        await _cli.CreateEmptyStoreAsync(); // a missing store is refused instead: GuardStoreMissingTests

        var output = await _cli.RunAsync("audit", "verify");

        output.Code.ShouldBe(0, output.ToString());
        output.Stdout.ShouldContain("intact: 0 records");
    }

    /// <summary>Attack: someone with the file edits a record (dropping the append-only trigger first). Expected: exit 1 naming that record.</summary>
    [Fact]
    public async Task Verify_RecordChangedInTheFile_Exits1NamingIt()
    {
        await _cli.CreateAgentAsync("alpha");
        await _cli.CreateAgentAsync("beta");
        await _cli.CreateAgentAsync("gamma");
        await _cli.ExecuteRawAsync("""DROP TRIGGER audit_no_update; UPDATE audit SET data = '{"name":"mallory"}' WHERE seq = 2""");

        var output = await _cli.RunAsync("audit", "verify");

        output.Code.ShouldBe(AdminExitCodes.Failed, output.ToString());
        output.Stdout.ShouldStartWith("audit chain BROKEN at record 2: record 2 was changed");
        output.Stdout.ShouldContain("1 records before it verified");
    }

    /// <summary>Attack: someone with the file deletes the newest records. The chain still links; the head printed earlier catches it.</summary>
    [Fact]
    public async Task Verify_WithTheHeadPrintedBefore_FindsRecordsCutOffTheEnd()
    {
        await _cli.CreateAgentAsync("alpha");
        await _cli.CreateAgentAsync("beta");
        await _cli.CreateAgentAsync("gamma");
        using (var before = JsonDocument.Parse((await _cli.RunAsync("audit", "verify", "--json")).Stdout))
        {
            var head = before.RootElement.GetProperty("head").GetString()!;
            head.ShouldStartWith("3:");
            (await _cli.RunAsync("audit", "verify", "--anchor", head)).Code.ShouldBe(0, "nothing changed yet");
            await _cli.ExecuteRawAsync("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 3");

            var plain = await _cli.RunAsync("audit", "verify");
            var anchored = await _cli.RunAsync("audit", "verify", "--anchor", head);

            plain.Code.ShouldBe(0, "the chain alone cannot see a cut tail");
            anchored.Code.ShouldBe(AdminExitCodes.Failed, anchored.ToString());
            anchored.Stdout.ShouldStartWith("audit chain BROKEN at record 3: the log ends at record 2");
            anchored.Stdout.ShouldContain("cut off the end");
        }
    }

    [Fact]
    public async Task Verify_MalformedAnchor_IsAUsageErrorNamingTheOption()
    {
        var output = await _cli.RunAsync("audit", "verify", "--anchor", "12:not-a-hash");

        output.Code.ShouldBe(AdminExitCodes.UsageError, output.ToString());
        output.Stderr.ShouldContain("--anchor");
        output.Stderr.ShouldContain("SHA-256");
    }

    [Fact]
    public async Task Show_FiltersByAgentNameAndKind()
    {
        var (alpha, _) = await _cli.CreateAgentAsync("alpha");
        await _cli.CreateAgentAsync("beta");
        (await _cli.RunAsync("agents", "hold", "alpha")).Code.ShouldBe(0);
        (await _cli.RunAsync("agents", "hold", "beta")).Code.ShouldBe(0);

        var output = await _cli.RunAsync("audit", "show", "--agent", "alpha", "--kind", "admin", "--jsonl");
        var text = await _cli.RunAsync("audit", "show", "--agent", alpha, "--status", "approval_hold_set");

        output.Code.ShouldBe(0, output.ToString());
        var records = Lines(output.Stdout).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        records.Select(r => r.GetProperty("status").GetString()).ShouldBe(["agent_created", "approval_hold_set"]);
        records.ShouldAllBe(r => r.GetProperty("agentId").GetString() == alpha);
        var line = Lines(text.Stdout).Where(l => !l.TrimStart().StartsWith("SEQ", StringComparison.Ordinal)).ShouldHaveSingleItem();
        line.ShouldContain("approval_hold_set");
        line.ShouldContain("alpha");
    }

    [Fact]
    public async Task Show_Jsonl_EveryLineIsJsonCarryingTheChain()
    {
        await _cli.CreateAgentAsync("alpha");
        (await _cli.RunAsync("agents", "rotate", "alpha")).Code.ShouldBe(0);
        (await _cli.RunAsync("agents", "revoke", "alpha")).Code.ShouldBe(0);

        var output = await _cli.RunAsync("audit", "show", "--jsonl");

        output.Code.ShouldBe(0, output.ToString());
        var records = Lines(output.Stdout).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        records.Count.ShouldBe(3);
        records[0].GetProperty("prevHash").GetString().ShouldBe(AuditChain.Genesis);
        for (var i = 0; i < records.Count; i++)
        {
            records[i].GetProperty("seq").GetInt64().ShouldBe(i + 1);
            records[i].GetProperty("data").ValueKind.ShouldBe(JsonValueKind.Object);
            records[i].GetProperty("hash").GetString()!.Length.ShouldBe(64);
            if (i > 0)
            {
                records[i].GetProperty("prevHash").GetString().ShouldBe(records[i - 1].GetProperty("hash").GetString());
            }

            // The export carries enough to recompute each hash: data re-serialises to the text that was hashed.
            var r = records[i];
            AuditChain.ComputeHash(r.GetProperty("seq").GetInt64(), r.GetProperty("time").GetString()!, r.GetProperty("kind").GetString()!,
                r.GetProperty("agentId").GetString(), r.GetProperty("runId").GetString(), r.GetProperty("status").GetString(),
                r.GetProperty("data").GetRawText(), r.GetProperty("prevHash").GetString()!).ShouldBe(r.GetProperty("hash").GetString());
        }
    }

    [Fact]
    public async Task Show_SinceAndUntil_TakeRelativeAndAbsoluteTimes()
    {
        await _cli.CreateAgentAsync("alpha");

        var recent = await _cli.RunAsync("audit", "show", "--since", "1h", "--jsonl");
        var older = await _cli.RunAsync("audit", "show", "--until", "1h", "--jsonl");
        var absolute = await _cli.RunAsync("audit", "show", "--since", "2000-01-01T00:00:00Z", "--until", "2100-01-01", "--jsonl");

        Lines(recent.Stdout).Count.ShouldBe(1, recent.ToString());
        Lines(older.Stdout).ShouldBeEmpty();
        Lines(absolute.Stdout).Count.ShouldBe(1, absolute.ToString());
    }

    [Fact]
    public async Task Show_LimitAndAfter_PageThroughTheLog()
    {
        await _cli.CreateAgentAsync("alpha");
        await _cli.CreateAgentAsync("beta");
        await _cli.CreateAgentAsync("gamma");

        var first = await _cli.RunAsync("audit", "show", "--limit", "2", "--jsonl");
        var rest = await _cli.RunAsync("audit", "show", "--after", "2", "--jsonl");

        Lines(first.Stdout).Count.ShouldBe(2);
        first.Stderr.ShouldContain("--after 2");
        Lines(rest.Stdout).ShouldHaveSingleItem().ShouldContain("\"seq\":3");
    }

    [Fact]
    public async Task Show_MoreThanOnePage_ExportsEveryRecordInOrder()
    {
        await using (var store = await _cli.OpenStoreAsync())
        {
            for (var i = 0; i < Sandbox.Guard.Audit.AuditQuery.MaxPageSize + 50; i++)
            {
                await store.AppendAsync(new Sandbox.Guard.Audit.AuditEntry { Kind = "note" }, TestContext.Current.CancellationToken);
            }
        }

        // Written page by page (the store returns at most one page per query), so the export crosses a page boundary.
        var export = await _cli.RunAsync("audit", "show", "--limit", "5000", "--jsonl");

        var lines = Lines(export.Stdout);
        lines.Count.ShouldBe(Sandbox.Guard.Audit.AuditQuery.MaxPageSize + 50, export.ToString());
        lines[^1].ShouldContain($"\"seq\":{Sandbox.Guard.Audit.AuditQuery.MaxPageSize + 50}");
    }

    [Theory]
    [InlineData("--since", "yesterday")]
    [InlineData("--until", "5x")]
    [InlineData("--kind", "gossip")]
    [InlineData("--limit", "0")]
    public async Task Show_BadOptionValue_IsAUsageErrorNamingTheOption(string option, string value)
    {
        var output = await _cli.RunAsync("audit", "show", option, value);

        output.Code.ShouldBe(AdminExitCodes.UsageError);
        output.Stderr.ShouldContain(option);
    }

    [Fact]
    public async Task Show_UnknownAgent_Exits1()
    {
        await _cli.CreateEmptyStoreAsync();
        var output = await _cli.RunAsync("audit", "show", "--agent", "nobody");

        output.Code.ShouldBe(AdminExitCodes.Failed);
        output.Stderr.ShouldContain("no agent 'nobody'");
    }

    private static List<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();

    public void Dispose() => _cli.Dispose();
}
