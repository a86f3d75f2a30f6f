using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Mcp;

namespace Sandbox.Server.IntegrationTests.Sessions;

/// <summary>
/// Sessions through a real <c>sandbox mcp</c> with local backends, spoken to in JSON-RPC over its stdio: open_session,
/// run_code with session keeping a variable between calls, a wrong session refused naming the field, close_session.
/// </summary>
[Trait("Category", "Integration")]
public sealed class McpSessionTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunCode_WithSession_KeepsStateBetweenCallsUntilClosed()
    {
        await using var server = McpProcess.Start();
        await server.InitializeAsync(Token);
        var tools = (await server.RequestAsync("tools/list", [], Token))["result"]!["tools"]!.AsArray();
        tools.Select(t => (string?)t!["name"]).ShouldContain("open_session");
        tools.Select(t => (string?)t!["name"]).ShouldContain("close_session");
        var runCode = tools.Single(t => (string?)t!["name"] == "run_code")!;
        runCode["inputSchema"]!["properties"]!["session"].ShouldNotBeNull();
        ((string?)runCode["description"]).ShouldNotBeNull().ShouldContain("session is worth it");

        var opened = await server.CallToolAsync("open_session", new JsonObject { ["language"] = "python", ["purpose"] = "explore a data frame" }, Token);
        (opened["isError"]?.GetValue<bool>() ?? false).ShouldBeFalse(opened.ToJsonString() + server.Stderr);
        var id = (string)opened["structuredContent"]!["id"]!;

        var set = await server.CallToolAsync("run_code", new JsonObject { ["language"] = "python", ["code"] = "x = 41", ["session"] = id }, Token);
        ((string?)set["structuredContent"]!["status"]).ShouldBe("ok", set.ToJsonString());
        var read = await server.CallToolAsync("run_code", new JsonObject { ["language"] = "python", ["code"] = "print(x + 1)", ["session"] = id }, Token);
        ((string?)read["structuredContent"]!["stdout"]).ShouldBe("42\n", read.ToJsonString());

        var plain = await server.CallToolAsync("run_code", new JsonObject { ["language"] = "python", ["code"] = "print('x' in globals())" }, Token);
        ((string?)plain["structuredContent"]!["stdout"]).ShouldBe("False\n", "a run without session is a fresh sandbox");

        var wrong = await server.CallToolAsync("run_code", new JsonObject { ["language"] = "python", ["code"] = "1", ["session"] = 7 }, Token);
        (wrong["isError"]?.GetValue<bool>() ?? false).ShouldBeTrue();
        wrong["content"]![0]!["text"]!.GetValue<string>().ShouldContain("session");

        var closed = await server.CallToolAsync("close_session", new JsonObject { ["session"] = id }, Token);
        ((string?)closed["structuredContent"]!["state"]).ShouldBe("closed", closed.ToJsonString());
        var late = await server.CallToolAsync("run_code", new JsonObject { ["language"] = "python", ["code"] = "x", ["session"] = id }, Token);
        (late["isError"]?.GetValue<bool>() ?? false).ShouldBeTrue(late.ToJsonString());
        (await Support.DockerProbe.ContainersOfRunAsync(id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task OpenSession_WebAssemblyProfile_IsRefusedSayingWhy()
    {
        await using var server = McpProcess.Start();
        await server.InitializeAsync(Token);
        var refused = await server.CallToolAsync("open_session", new JsonObject { ["language"] = "python", ["profile"] = "python-wasm" }, Token);
        (refused["isError"]?.GetValue<bool>() ?? false).ShouldBeTrue(refused.ToJsonString());
        refused["content"]![0]!["text"]!.GetValue<string>().ShouldContain("WebAssembly");
    }
}
