using System.Text.Json.Nodes;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Mcp;

/// <summary>
/// What a typed MCP client relies on: each tool declares an outputSchema, structured content carries everything
/// the text does (output included), every failure has a status, and the tools offer only what the calling agent
/// may run. Against the real <c>sandbox mcp</c> acting as an agent allowed bash only.
/// </summary>
[Trait("Category", "Integration")]
public sealed class McpToolContractTests
{
    private const string AdminKey = "mcp-contract-test-admin-key-0123456789abcdef0123456";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static AgentSpec BashOnly() => new() { Name = "mcp-bash-only", Profiles = ["bash"], RatePerMinute = 1000, MaxConcurrentRuns = 4, DailyRuns = 1000, DailyCpuSeconds = 600 };

    private static async Task<McpProcess> StartAsync()
    {
        var server = McpProcess.Start(BashOnly());
        await server.InitializeAsync(Token);
        return server;
    }

    [Fact]
    public async Task ToolsList_EveryToolDeclaresAnObjectOutputSchema()
    {
        await using var server = await StartAsync();

        var tools = (await server.RequestAsync("tools/list", [], Token))["result"]!["tools"]!.AsArray();

        foreach (var tool in tools)
        {
            tool!["outputSchema"]?["type"]?.GetValue<string>().ShouldBe("object", tool["name"] + " declares no object outputSchema");
        }

        var runCode = tools.Single(t => t!["name"]!.GetValue<string>() == "run_code")!;
        var properties = runCode["outputSchema"]!["properties"]!.AsObject().Select(p => p.Key).ToList();
        properties.ShouldContain("stdout");
        properties.ShouldContain("stderr");
        properties.ShouldContain("status");
        properties.ShouldContain("outputFence");
    }

    [Fact]
    public async Task ToolsList_AgentAllowedBashOnly_OffersBashOnly()
    {
        await using var server = await StartAsync();

        var tools = (await server.RequestAsync("tools/list", [], Token))["result"]!["tools"]!.AsArray();

        var runCode = tools.Single(t => t!["name"]!.GetValue<string>() == "run_code")!;
        runCode["inputSchema"]!["properties"]!["language"]!["enum"]!.AsArray().Select(l => l!.GetValue<string>()).ShouldBe(["bash"]);
        var description = runCode["description"]!.GetValue<string>();
        description.ShouldContain("\n- bash (", Case.Sensitive);
        foreach (var language in new[] { "python", "javascript", "c", "csharp" })
        {
            description.ShouldNotContain($"\n- {language} (", Case.Sensitive);
        }

        var languages = await server.CallToolAsync("list_languages", [], Token);
        languages["structuredContent"]!["languages"]!.AsArray().Select(l => l!["language"]!.GetValue<string>()).ShouldBe(["bash"]);
    }

    [Fact]
    public async Task RunCode_LanguageOffTheAllowList_IsRejectedWithAStatus()
    {
        await using var server = await StartAsync();

        var result = await server.CallToolAsync("run_code", new JsonObject { ["language"] = "python", ["code"] = "print(1)", ["purpose"] = "allow-list test" }, Token);

        result["isError"]!.GetValue<bool>().ShouldBeTrue();
        result["structuredContent"]!["status"]?.GetValue<string>().ShouldBe("rejected", result.ToJsonString());
    }

    [Fact]
    public async Task RunCode_Output_IsInStructuredContentAsInTheText()
    {
        await using var server = await StartAsync();

        var result = await server.CallToolAsync("run_code", new JsonObject { ["language"] = "bash", ["code"] = "echo out; echo err >&2; exit 3", ["purpose"] = "structured output test" }, Token);

        var structured = result["structuredContent"]!;
        structured["status"]!.GetValue<string>().ShouldBe("runtime_error", result.ToJsonString());
        structured["stdout"]!.GetValue<string>().ShouldBe("out\n");
        structured["stderr"]!.GetValue<string>().ShouldBe("err\n");
        var fence = structured["outputFence"]!.GetValue<string>();
        var text = result["content"]![0]!["text"]!.GetValue<string>();
        text.ShouldContain($"--- stdout [{fence}] ---\nout\n", Case.Sensitive);
        text.ShouldContain($"--- stderr [{fence}] ---\nerr\n", Case.Sensitive);
    }

    [Fact]
    public async Task Remote_AgentAllowedBashOnly_OffersBashOnlyAndRejectsPythonWithAStatus()
    {
        var data = Path.Join(Path.GetTempPath(), "sandbox-mcp-contract-" + Guid.NewGuid().ToString("N"));
        string key;
        await using (var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(data), TimeProvider.System, Token))
        {
            var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(BashOnly(), "test", Token);
            key = created.Value.ShouldNotBeNull(created.Message).Key;
        }

        try
        {
            using var serve = ServeProcess.Start(data, AdminKey);
            await serve.WaitHealthyAsync(Token);
            await using var server = McpProcess.StartRemote(serve.Http.BaseAddress!, key);
            await server.InitializeAsync(Token);

            var tools = (await server.RequestAsync("tools/list", [], Token))["result"]!["tools"]!.AsArray();
            var runCode = tools.Single(t => t!["name"]!.GetValue<string>() == "run_code")!;
            runCode["inputSchema"]!["properties"]!["language"]!["enum"]!.AsArray().Select(l => l!.GetValue<string>()).ShouldBe(["bash"]);

            // The service refuses it with 403 profile_not_allowed: a refusal like any other, so a status like any other.
            var result = await server.CallToolAsync("run_code", new JsonObject { ["language"] = "python", ["code"] = "print(1)", ["purpose"] = "allow-list test" }, Token);
            result["isError"]!.GetValue<bool>().ShouldBeTrue();
            result["structuredContent"]!["status"]?.GetValue<string>().ShouldBe("rejected", result.ToJsonString());
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
