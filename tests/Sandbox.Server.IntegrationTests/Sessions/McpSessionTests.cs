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
    public async Task Loop_UploadACsvLoadItThenPlotWithoutRereading_ReturnsTheImageAndTheCsv()
    {
        await using var server = McpProcess.Start();
        await server.InitializeAsync(Token);
        var opened = await server.CallToolAsync("open_session", new JsonObject { ["language"] = "python", ["purpose"] = "plot a csv" }, Token);
        var id = (string)opened["structuredContent"]!["id"]!;

        var load = await server.CallToolAsync("run_code", new JsonObject
        {
            ["language"] = "python",
            ["code"] = "import pandas as pd\ndf = pd.read_csv('/tmp/data.csv')\nlen(df)",
            ["files"] = new JsonArray(new JsonObject { ["path"] = "data.csv", ["content"] = SessionEndpointsTests.LoopCsv }),
            ["session"] = id,
        }, Token);
        ((string?)load["structuredContent"]!["stdout"]).ShouldBe("4\n", load.ToJsonString() + server.Stderr);

        var plot = await server.CallToolAsync("run_code", new JsonObject
        {
            ["language"] = "python",
            ["code"] = "import os\nos.remove('/tmp/data.csv')\nimport matplotlib.pyplot as plt\ndf.plot(x='x', y='y')\ndf.assign(z=df.y * 2).to_csv('/tmp/outputs/doubled.csv', index=False)",
            ["session"] = id,
        }, Token);
        ((string?)plot["structuredContent"]!["status"]).ShouldBe("ok", plot.ToJsonString());

        // The plot as image content: a PNG of matplotlib's default size.
        var image = plot["content"]!.AsArray().Single(b => (string?)b!["type"] == "image")!;
        ((string?)image["mimeType"]).ShouldBe("image/png");
        var png = Convert.FromBase64String((string)image["data"]!);
        png.AsSpan(0, 4).ToArray().ShouldBe(new byte[] { 0x89, 0x50, 0x4E, 0x47 });
        (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20))).ShouldBe((640, 480));

        // The CSV as an embedded text resource whose bytes hash to what the result lists.
        var resource = plot["content"]!.AsArray().Single(b => (string?)b!["type"] == "resource")!["resource"]!;
        var text = (string)resource["text"]!;
        text.ShouldBe("x,y,z\n1,1,2\n2,4,8\n3,9,18\n4,16,32\n");
        var listed = plot["structuredContent"]!["artifacts"]!.AsArray().Single(a => (string?)a!["path"] == "doubled.csv")!;
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text))).ShouldBe((string)listed["sha256"]!);

        await server.CallToolAsync("close_session", new JsonObject { ["session"] = id }, Token);
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
