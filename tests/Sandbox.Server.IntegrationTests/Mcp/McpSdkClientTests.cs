using System.Text.Json;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Mcp;

/// <summary>
/// The official MCP TypeScript SDK (@modelcontextprotocol/sdk from eng/npm) drives the real <c>sandbox mcp</c> over stdio
/// (eng/npm/tests/mcp-sdk.test.ts): tools/list, run_code ok, runtime_error, compile_error, timeout, cpu_limit,
/// memory_limit, output_limit and rejected with field errors, each result's
/// structuredContent checked against the tool's outputSchema (by the SDK and by ajv), and a cancelled call freeing the
/// agent's only slot. Afterwards the audit log must hold that run as <c>cancelled</c>. MCP is served on stdio only; the
/// service has no Streamable HTTP endpoint to drive the same way.
/// </summary>
[Trait("Category", "Integration")]
public sealed class McpSdkClientTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OfficialSdk_Stdio_ListsCallsValidatesAndCancels()
    {
        var data = Path.Join(Path.GetTempPath(), "sandbox-mcp-sdk-" + Guid.NewGuid().ToString("N"));
        var logs = Path.Join(Path.GetTempPath(), "sandbox-mcp-sdk-logs-" + Guid.NewGuid().ToString("N"));
        var agent = new AgentSpec { Name = "mcp-sdk", Profiles = ["python", "bash", "c"], RatePerMinute = 1000, MaxConcurrentRuns = 1, DailyRuns = 1000, DailyCpuSeconds = 600 };
        await using (var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(data), TimeProvider.System, Token))
        {
            (await new AgentAdmin(store, TimeProvider.System).CreateAsync(agent, "test", Token)).Ok.ShouldBeTrue();
        }

        try
        {
            await NpmClients.RunAsync(NpmClients.Bin("tsc"), ["-p", Path.Join(NpmClients.Folder, "tsconfig.mcp.json")]);
            var (fileName, prefix) = McpProcess.SandboxExecutable();
            await NpmClients.RunAsync("node", ["--test", Path.Join(NpmClients.Folder, "out", "tests", "mcp-sdk.test.js")], new Dictionary<string, string>
            {
                ["SANDBOX_MCP_COMMAND"] = fileName,
                ["SANDBOX_MCP_ARGS"] = JsonSerializer.Serialize(prefix.Concat(["mcp", "--profiles", Path.Join(RepositoryRoot.Path, "images"), "--agent", agent.Name, "--data", data]).ToArray()),
                ["Sandbox__LogDirectory"] = logs,
                ["SANDBOX_AGENT"] = "", // removed: the server acts as --agent only
                ["SANDBOX_API_KEY"] = "",
            }, TimeSpan.FromMinutes(5));

            // What the client could not see: the run it gave up on was cancelled, not left to time out.
            await using var audit = await SqliteGuardStore.OpenAsync(GuardPaths.Database(data), TimeProvider.System, Token);
            var results = await audit.QueryAuditAsync(new AuditQuery { Kind = AuditKinds.Result }, Token);
            results.Count(r => r.Status == "cancelled").ShouldBe(1, string.Join("\n", results.Select(r => $"{r.RunId} {r.Status}")));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
            if (Directory.Exists(logs))
            {
                Directory.Delete(logs, recursive: true);
            }
        }
    }
}
