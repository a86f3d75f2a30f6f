using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Mcp;

namespace Sandbox.Server.IntegrationTests.Sessions;

/// <summary>
/// The JavaScript and bash kernels through a real <c>sandbox mcp</c>: open_session offers them and says what each keeps,
/// run_code with session keeps a declaration (javascript) and a function (bash) between calls, close_session removes them.
/// </summary>
[Trait("Category", "Integration")]
public sealed class McpSessionKernelsTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OpenSession_JavaScriptAndBash_KeepStateBetweenRunCodeCalls()
    {
        await using var server = McpProcess.Start();
        await server.InitializeAsync(Token);
        var tools = (await server.RequestAsync("tools/list", [], Token))["result"]!["tools"]!.AsArray();
        var open = tools.Single(t => (string?)t!["name"] == "open_session")!;
        open["inputSchema"]!["properties"]!["language"]!["enum"]!.AsArray().Select(n => (string?)n).ShouldBe(["bash", "javascript", "python"], ignoreOrder: true);
        ((string?)open["description"]).ShouldNotBeNull().ShouldContain("bash (one shell");

        var js = await OpenAsync(server, "javascript");
        await RunAsync(server, js, "javascript", "const square = (n) => n * n; let base = 6;");
        var answer = await RunAsync(server, js, "javascript", "square(base) + 6");
        ((string?)answer["structuredContent"]!["stdout"]).ShouldBe("42\n", answer.ToJsonString());

        var sh = await OpenAsync(server, "bash");
        await RunAsync(server, sh, "bash", "twice() { echo $(($1 * 2)); }; n=21");
        var doubled = await RunAsync(server, sh, "bash", "twice $n");
        ((string?)doubled["structuredContent"]!["stdout"]).ShouldBe("42\n", doubled.ToJsonString());

        foreach (var id in new[] { js, sh })
        {
            var closed = await server.CallToolAsync("close_session", new JsonObject { ["session"] = id }, Token);
            ((string?)closed["structuredContent"]!["state"]).ShouldBe("closed", closed.ToJsonString());
            (await Support.DockerProbe.ContainersOfRunAsync(id)).ShouldBeEmpty();
        }
    }

    private static async Task<string> OpenAsync(McpProcess server, string language)
    {
        var opened = await server.CallToolAsync("open_session", new JsonObject { ["language"] = language }, Token);
        (opened["isError"]?.GetValue<bool>() ?? false).ShouldBeFalse(opened.ToJsonString() + server.Stderr);
        return (string)opened["structuredContent"]!["id"]!;
    }

    private static async Task<JsonNode> RunAsync(McpProcess server, string session, string language, string code)
    {
        var result = await server.CallToolAsync("run_code", new JsonObject { ["language"] = language, ["code"] = code, ["session"] = session }, Token);
        ((string?)result["structuredContent"]!["status"]).ShouldBe("ok", result.ToJsonString() + server.Stderr);
        return result;
    }
}
