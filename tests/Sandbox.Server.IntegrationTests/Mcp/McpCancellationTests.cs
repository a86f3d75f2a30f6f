using System.Diagnostics;
using System.Text.Json.Nodes;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Mcp;

/// <summary>
/// A client that gives up on a tool call (<c>notifications/cancelled</c>) must not leave the run going: it is
/// cancelled, recorded <c>cancelled</c>, and its concurrency slot is free for the agent's next calls. Run against
/// the real <c>sandbox mcp</c>, with local backends and with <c>--url</c> in front of a real <c>sandbox serve</c>.
/// </summary>
[Trait("Category", "Integration")]
public sealed class McpCancellationTests
{
    private const string AdminKey = "mcp-cancel-test-admin-key-0123456789abcdef012345678";

    /// <summary>Far longer than the test waits for the cancellation: a run that ends in time was cancelled.</summary>
    private static readonly TimeSpan s_cancelledWithin = TimeSpan.FromSeconds(15);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static AgentSpec OneAtATime() => new() { Name = "mcp-cancel", Profiles = ["bash"], RatePerMinute = 1000, MaxConcurrentRuns = 1, DailyRuns = 1000, DailyCpuSeconds = 600 };

    private static JsonObject Bash(string code) => new() { ["language"] = "bash", ["code"] = code, ["purpose"] = "cancellation test" };

    [Fact]
    public async Task CancelledToolCall_Local_CancelsTheRunAndFreesItsSlot()
    {
        await using var server = McpProcess.Start(OneAtATime());
        await server.InitializeAsync(Token);

        await CancelALongRunThenRunTwiceAsync(server, server.DataDirectory!);
    }

    [Fact]
    public async Task CancelledToolCall_Remote_CancelsTheRunOnTheServiceAndFreesItsSlot()
    {
        var data = Path.Join(Path.GetTempPath(), "sandbox-mcp-cancel-" + Guid.NewGuid().ToString("N"));
        string key;
        await using (var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(data), TimeProvider.System, Token))
        {
            var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(OneAtATime(), "test", Token);
            key = created.Value.ShouldNotBeNull(created.Message).Key;
        }

        try
        {
            using var serve = ServeProcess.Start(data, AdminKey);
            await serve.WaitHealthyAsync(Token);
            await using var server = McpProcess.StartRemote(serve.Http.BaseAddress!, key);
            await server.InitializeAsync(Token);

            await CancelALongRunThenRunTwiceAsync(server, data);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task CancelALongRunThenRunTwiceAsync(McpProcess server, string data)
    {
        var call = await server.SendRequestAsync("tools/call", new JsonObject { ["name"] = "run_code", ["arguments"] = Bash("sleep 30") }, Token);
        var runId = await WaitForAuditAsync(data, AuditKinds.Request, status: null, TimeSpan.FromSeconds(30), server);
        // Let it reach its container: the kill of a running run is the case that used to leak.
        await Task.Delay(TimeSpan.FromSeconds(1), Token);

        var clock = Stopwatch.StartNew();
        await server.CancelRequestAsync(call, "the user changed their mind", Token);

        var cancelled = await WaitForAuditAsync(data, AuditKinds.Result, "cancelled", s_cancelledWithin, server);
        cancelled.ShouldBe(runId);
        clock.Elapsed.ShouldBeLessThan(s_cancelledWithin);

        // The agent may hold one run at once: both calls are refused cap_exceeded if the cancelled run kept its slot.
        for (var i = 0; i < 2; i++)
        {
            var result = await server.CallToolAsync("run_code", Bash("echo still-here"), Token);
            result["structuredContent"]?["status"]?.GetValue<string>().ShouldBe("ok", result.ToJsonString());
        }
    }

    /// <summary>The run id of the first audit record of <paramref name="kind"/> (and <paramref name="status"/>), polled until <paramref name="within"/>.</summary>
    private static async Task<string> WaitForAuditAsync(string data, string kind, string? status, TimeSpan within, McpProcess server)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            await using (var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(data), TimeProvider.System, Token))
            {
                var records = await store.QueryAuditAsync(new AuditQuery { Kind = kind, Status = status }, Token);
                if (records.FirstOrDefault(r => r.RunId is not null) is { RunId: { } runId })
                {
                    return runId;
                }
            }

            if (clock.Elapsed > within)
            {
                Assert.Fail($"no {kind} record{(status is null ? "" : " with status " + status)} in the audit log within {within.TotalSeconds} s\n{server.Stderr}");
            }

            await Task.Delay(200, Token);
        }
    }
}
