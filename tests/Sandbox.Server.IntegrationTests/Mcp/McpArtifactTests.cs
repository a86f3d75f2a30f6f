using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Mcp;

/// <summary>
/// Artifacts through a real <c>sandbox mcp</c> (issue 14, point 1): a plot comes back as image content, a CSV as an
/// embedded text resource, a file past the budget as a resource link; locally and through <c>--url</c> against a real
/// <c>sandbox serve</c>, where the bytes come over <c>GET /v1/runs/{id}/artifacts/{path}</c>.
/// </summary>
[Trait("Category", "Integration")]
public sealed class McpArtifactTests
{
    private const string Code = """
        import os
        import matplotlib.pyplot as plt
        with open('/tmp/outputs/squares.csv', 'w') as f:
            f.write(''.join(f'{i},{i*i}\n' for i in range(20)))
        with open('/tmp/outputs/blob.bin', 'wb') as f:
            f.write(os.urandom(3 * 1024 * 1024))
        plt.figure(figsize=(5, 4), dpi=40)
        plt.plot([1, 2, 3])
        plt.show()
        print('ok')
        """;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunCode_Local_PlotIsImageContent_CsvIsEmbedded_BigFileIsLinked()
    {
        await using var server = McpProcess.Start(new AgentSpec { Name = "mcp-plotter", Profiles = ["python"], RatePerMinute = 100, MaxConcurrentRuns = 2 });
        await server.InitializeAsync(Token);

        CheckResult(await server.CallToolAsync("run_code", new JsonObject { ["language"] = "python", ["code"] = Code }, Token));
    }

    [Fact]
    public async Task RunCode_Remote_FetchesTheBytesOverHttp()
    {
        var data = Path.Join(Path.GetTempPath(), "sandbox-mcp-artifacts-" + Guid.NewGuid().ToString("N"));
        string key;
        await using (var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(data), TimeProvider.System, Token))
        {
            var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(new AgentSpec { Name = "remote-plotter", Profiles = ["python"] }, "test", Token);
            key = created.Value.ShouldNotBeNull(created.Message).Key;
        }

        var serve = ServeProcess.Start(data, "mcp-artifact-test-admin-key-0123456789abcdef012345");
        try
        {
            await serve.WaitHealthyAsync(Token);
            await using var server = McpProcess.StartRemote(serve.Http.BaseAddress!, key);
            await server.InitializeAsync(Token);

            CheckResult(await server.CallToolAsync("run_code", new JsonObject { ["language"] = "python", ["code"] = Code }, Token));
        }
        finally
        {
            serve.Dispose();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task RunCode_HostileTextFiles_ModelGetsNoEscapeNoControlNoBrokenText()
    {
        // ESC sequences, NULs and broken UTF-8 (bytes, never text); 8-bit CSI, bidi override and a lone \r in valid UTF-8
        // (text, sanitized); and a text far past the per-file text budget (bounded).
        const string hostile = """
            with open('/tmp/outputs/ansi.txt', 'wb') as f:
                f.write(b'\x1b[2J\x1b]0;owned\x07\x1b[31mred\x00\x00\xc3\x28\xff' * 500)
            with open('/tmp/outputs/c1.csv', 'w') as f:
                f.write('a,b\n\u009b2J\u202eevil\r1,2\n' * 50)
            with open('/tmp/outputs/big.txt', 'w') as f:
                f.write('line of text\n' * 40000)
            print('ok')
            """;
        await using var server = McpProcess.Start(new AgentSpec { Name = "mcp-hostile-text", Profiles = ["python"], RatePerMinute = 100, MaxConcurrentRuns = 2 });
        await server.InitializeAsync(Token);

        var result = await server.CallToolAsync("run_code", new JsonObject { ["language"] = "python", ["code"] = hostile }, Token);

        ((bool?)result["isError"]).ShouldNotBe(true, result.ToJsonString());
        var resources = result["content"]!.AsArray().Where(c => (string)c!["type"]! == "resource").Select(c => c!["resource"]!).ToDictionary(r => ((string)r["uri"]!).Split('/')[^1]);
        resources.Keys.ShouldBe(["ansi.txt", "c1.csv", "big.txt"], ignoreOrder: true);
        resources["ansi.txt"]["text"].ShouldBeNull();
        ((string)resources["ansi.txt"]["mimeType"]!).ShouldBe("application/octet-stream");
        foreach (var name in new[] { "c1.csv", "big.txt" })
        {
            var text = (string)resources[name]["text"]!;
            text.ShouldNotContain(c => c < 0x20 && c != '\n' && c != '\t' || c >= 0x7F && c <= 0x9F || c >= 0x202A && c <= 0x202E, text);
            System.Text.Encoding.UTF8.GetByteCount(text).ShouldBeLessThanOrEqualTo(64 * 1024);
        }

        ((string)resources["c1.csv"]["text"]!).ShouldContain("<U+202E>");
        ((string)resources["big.txt"]["text"]!).ShouldContain("bytes omitted");
    }

    private static void CheckResult(JsonNode result)
    {
        ((bool?)result["isError"]).ShouldNotBe(true, result.ToJsonString());
        var listed = result["structuredContent"]!["artifacts"]!.AsArray().ToDictionary(a => (string)a!["path"]!, a => (string)a!["sha256"]!);
        listed.Keys.ShouldBe(["blob.bin", "figure-1.png", "squares.csv"], ignoreOrder: true);
        var content = result["content"]!.AsArray();

        var image = content.Single(c => (string)c!["type"]! == "image")!;
        ((string)image["mimeType"]!).ShouldBe("image/png");
        var png = Convert.FromBase64String((string)image["data"]!);
        Convert.ToHexStringLower(SHA256.HashData(png)).ShouldBe(listed["figure-1.png"]);
        (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20))).ShouldBe((200, 160));

        var csv = content.Single(c => (string)c!["type"]! == "resource")!["resource"]!;
        ((string)csv["mimeType"]!).ShouldBe("text/csv");
        ((string)csv["uri"]!).ShouldEndWith("/artifacts/squares.csv");
        Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes((string)csv["text"]!))).ShouldBe(listed["squares.csv"]);

        // 3 MiB is past the 2 MiB a result embeds: linked, with its size, not inlined.
        var link = content.Single(c => (string)c!["type"]! == "resource_link")!;
        ((string)link["name"]!).ShouldBe("blob.bin");
        ((long)link["size"]!).ShouldBe(3 * 1024 * 1024);
        ((string)content[0]!["text"]!).ShouldContain("blob.bin (application/octet-stream");
    }
}
