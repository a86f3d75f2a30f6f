using Sandbox.Guard.Agents;
using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Mcp;

/// <summary>
/// The MCP server as an agent's client sees it: the real <c>sandbox mcp</c> process with the local backends,
/// spoken to in JSON-RPC over its stdio.
/// </summary>
[Trait("Category", "Integration")]
public sealed class McpProcessTests(McpProcessFixture fixture) : IClassFixture<McpProcessFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static JsonObject Python(string code, string purpose, JsonObject? limits = null)
    {
        var arguments = new JsonObject { ["language"] = "python", ["code"] = code, ["purpose"] = purpose };
        if (McpProcessFixture.PythonProfile is { } profile)
        {
            arguments["profile"] = profile;
        }

        if (limits is not null)
        {
            arguments["limits"] = limits;
        }

        return arguments;
    }

    private static string Text(JsonNode result) => result["content"]![0]!["text"]!.GetValue<string>();

    private static string? Status(JsonNode result) => result["structuredContent"]?["status"]?.GetValue<string>();

    private static bool IsError(JsonNode result) => result["isError"]?.GetValue<bool>() ?? false;

    /// <summary>A run that failed for want of Docker or an image is the environment's problem: fail on CI, skip locally.</summary>
    private void RequireSandbox(JsonNode result)
    {
        fixture.RequireDocker();
        if (Status(result) == "sandbox_error")
        {
            fixture.RequireDocker("the run ended sandbox_error (" + Text(result) + "); run `make images`");
        }
    }

    [Fact]
    public void Initialize_NamesTheServerAndOffersTools()
    {
        fixture.Initialize["serverInfo"]!["name"]!.GetValue<string>().ShouldBe("sandbox");
        fixture.Initialize["capabilities"]!["tools"].ShouldNotBeNull();
    }

    [Fact]
    public async Task ToolsList_RunCodeListGetAndSessionTools_RunCodeDescribesLanguagesAndLimits()
    {
        var answer = await fixture.Server.RequestAsync("tools/list", [], Token);

        var tools = answer["result"]!["tools"]!.AsArray();
        tools.Select(t => t!["name"]!.GetValue<string>()).ShouldBe(["run_code", "list_languages", "get_run", "open_session", "close_session"], ignoreOrder: true);
        var runCode = tools.Single(t => t!["name"]!.GetValue<string>() == "run_code")!;
        var description = runCode["description"]!.GetValue<string>();
        foreach (var language in new[] { "python", "javascript", "bash", "c", "csharp" })
        {
            description.ShouldContain($"\n- {language} (", Case.Sensitive);
        }

        description.ShouldContain("wall time 10 s, CPU time 5 s, memory 256 MiB", Case.Sensitive);
        description.ShouldContain("- memory_limit: ", Case.Sensitive);
        runCode["inputSchema"]!["properties"]!["language"]!["enum"]!.AsArray().Select(l => l!.GetValue<string>()).ShouldContain("python");
        runCode["inputSchema"]!["required"]!.AsArray().Select(r => r!.GetValue<string>()).ShouldBe(["language", "code"]);
    }

    [Fact]
    public async Task RunCode_PythonPrintsTwo_IsOkWithOutputAndNumbers()
    {
        var result = await fixture.Server.CallToolAsync("run_code", Python("print(1+1)", "check that the sandbox runs python"), Token);

        RequireSandbox(result);
        IsError(result).ShouldBeFalse(Text(result));
        Status(result).ShouldBe("ok");
        var structured = result["structuredContent"]!;
        Text(result).ShouldContain($"--- stdout [{structured["outputFence"]!.GetValue<string>()}] ---\n2\n", Case.Sensitive);
        structured["exitCode"]!.GetValue<int>().ShouldBe(0);
        structured["runId"]!.GetValue<string>().ShouldStartWith("run_");
        structured["backend"]!.GetValue<string>().ShouldBe("docker");
        structured["limits"]!["wallTimeMs"]!.GetValue<long>().ShouldBeGreaterThan(0);
        structured["usage"]!["wallMs"]!.GetValue<long>().ShouldBeGreaterThan(0);
        structured["queueMs"].ShouldNotBeNull();
        structured["runMs"].ShouldNotBeNull();
    }

    [Fact]
    public async Task RunCode_EndlessLoopWithOneSecondWallTime_IsATimeoutErrorWithAHint()
    {
        var result = await fixture.Server.CallToolAsync("run_code",
            Python("while True: pass", "show what a timeout looks like", new JsonObject { ["wallTimeMs"] = 1000 }), Token);

        RequireSandbox(result);
        IsError(result).ShouldBeTrue(Text(result));
        Status(result).ShouldBe("timeout", Text(result));
        var structured = result["structuredContent"]!;
        structured["limits"]!["wallTimeMs"]!.GetValue<long>().ShouldBe(1000);
        structured["limitBreach"]!["limit"]!.GetValue<string>().ShouldBe("wallTimeMs");
        structured["hint"]!.GetValue<string>().ShouldStartWith("timeout: used ", Case.Sensitive);
        structured["hint"]!.GetValue<string>().ShouldContain("the profile allows up to ", Case.Sensitive);
        Text(result).ShouldContain("\ntimeout: used ", Case.Sensitive);

        // The killed run left no container behind.
        (await DockerProbe.ContainersOfRunAsync(structured["runId"]!.GetValue<string>())).ShouldBeEmpty();
    }

    [Fact]
    public async Task RunCode_UnknownLanguage_IsARejectionThatListsTheLanguages()
    {
        var result = await fixture.Server.CallToolAsync("run_code",
            new JsonObject { ["language"] = "rust", ["code"] = "fn main() {}", ["purpose"] = "try a language that is not there" }, Token);

        IsError(result).ShouldBeTrue();
        Status(result).ShouldBe("rejected");
        Text(result).ShouldStartWith("rejected: language 'rust' is not available; choose one of ", Case.Sensitive);
        Text(result).ShouldContain("python", Case.Sensitive);
        result["structuredContent"]!["hint"]!.GetValue<string>().ShouldContain("Fix the request and call run_code again.", Case.Sensitive);
    }

    [Theory]
    [InlineData("""{"language":"python","language":"bash","code":"print(1)"}""", "language")] // attack: a proxy that checks the first key
    [InlineData("""{"language":"python","code":"print(1)","files":[null]}""", "files[0]")]
    [InlineData("""{"language":"python","code":"print('\ud800')"}""", "code")] // a lone surrogate was a bare -32603 inside the SDK
    [InlineData("""[1]""", "arguments")] // arguments that are not an object were a bare -32603 too
    public async Task RunCode_RawArgumentsTheSdkWouldMisread_AreRefusedNamingTheFieldAsOverHttp(string arguments, string field)
    {
        var answer = await fixture.Server.RawRequestAsync(
            id => System.Text.Encoding.UTF8.GetBytes($$$"""{"jsonrpc":"2.0","id":{{{id}}},"method":"tools/call","params":{"name":"run_code","arguments":{{{arguments}}}}}"""), Token);

        var result = answer["result"].ShouldNotBeNull(answer.ToJsonString());
        IsError(result).ShouldBeTrue();
        Status(result).ShouldBe("rejected");
        result["structuredContent"]!["errors"]!.AsArray().Select(e => (string?)e!["field"]).ShouldBe([field]);
    }

    [Fact]
    public async Task ToolsCall_NameGivenTwice_IsInvalidParamsNamingIt()
    {
        var answer = await fixture.Server.RawRequestAsync(
            id => System.Text.Encoding.UTF8.GetBytes($$$$"""{"jsonrpc":"2.0","id":{{{{id}}}},"method":"tools/call","params":{"name":"run_code","name":"get_run","arguments":{"language":"python","code":"1"}}}"""), Token);

        ((int?)answer["error"]?["code"]).ShouldBe(-32602, answer.ToJsonString());
        ((string?)answer["error"]!["message"]).ShouldStartWith("params.name: appears more than once");
    }

    [Fact]
    public async Task RunCode_NoPurpose_RunsAsOverHttp()
    {
        // One rule for purpose on every front end: optional, length-bounded by the guard (README, "purpose").
        var result = await fixture.Server.CallToolAsync("run_code", new JsonObject { ["language"] = "python", ["code"] = "print(1)" }, Token);

        IsError(result).ShouldBeFalse(Text(result));
        Status(result).ShouldBe("ok");
    }

    [Fact]
    public async Task RunCode_PurposeTooLong_IsRejectedNamingPurpose()
    {
        var result = await fixture.Server.CallToolAsync("run_code", Python("print(1)", new string('p', 1001)), Token);

        IsError(result).ShouldBeTrue();
        Status(result).ShouldBe("rejected");
        Text(result).ShouldContain("purpose", Case.Sensitive);
    }

    [Fact]
    public async Task RunCode_ProfileOffTheAgentsAllowList_IsRejectedAndNothingRuns()
    {
        await using var server = McpProcess.Start(new AgentSpec { Name = "bash-only", Profiles = ["bash"] });
        await server.InitializeAsync(Token);

        var result = await server.CallToolAsync("run_code", Python("print(1)", "check the allow-list"), Token);

        IsError(result).ShouldBeTrue();
        Text(result).ShouldContain("not allowed");
        Text(result).ShouldContain("bash");
    }

    [Fact]
    public async Task RunCode_AgentUnderApproval_SaysPlainlyItWaitsForAHuman()
    {
        await using var server = McpProcess.Start(new AgentSpec { Name = "held", Profiles = ["python", "python-gvisor"] }, holdReason: "new agent, watched for a day");
        await server.InitializeAsync(Token);

        var result = await server.CallToolAsync("run_code", Python("print(1)", "check the approval gate"), Token);

        IsError(result).ShouldBeFalse(Text(result));
        Text(result).ShouldStartWith("pending_approval:");
        Text(result).ShouldContain("waiting for a human to approve it");
        Text(result).ShouldContain("new agent, watched for a day");
        result["structuredContent"]!["approvalId"]!.GetValue<string>().ShouldStartWith("apr_");
    }
}
