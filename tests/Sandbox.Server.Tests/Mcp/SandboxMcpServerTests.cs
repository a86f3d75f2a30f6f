using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Server.Mcp;

namespace Sandbox.Server.Tests.Mcp;

/// <summary>The SDK wiring: our handlers answer real JSON-RPC over a pair of pipes, as they do over stdio.</summary>
public sealed class SandboxMcpServerTests : IAsyncDisposable
{
    private readonly Pipe _toServer = new();
    private readonly Pipe _toClient = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly StreamWriter _writer;
    private readonly StreamReader _reader;
    private readonly Task _server;

    public SandboxMcpServerTests()
    {
        var tools = new SandboxMcpTools(new FakeRunGateway(), Some.Ceilings(), NullLogger<SandboxMcpTools>.Instance);
        _server = SandboxMcpServer.RunStreamsAsync(tools, _toServer.Reader.AsStream(), _toClient.Writer.AsStream(), NullLoggerFactory.Instance, _stop.Token);
        _writer = new StreamWriter(_toServer.Writer.AsStream(), new UTF8Encoding(false)) { AutoFlush = true };
        _reader = new StreamReader(_toClient.Reader.AsStream(), Encoding.UTF8);
    }

    [Fact]
    public async Task Initialize_ThenListAndCall_AnswersWithOurTools()
    {
        var initialize = await RequestAsync(1, "initialize", new JsonObject
        {
            ["protocolVersion"] = "2025-06-18",
            ["capabilities"] = new JsonObject(),
            ["clientInfo"] = new JsonObject { ["name"] = "test", ["version"] = "1" },
        });
        initialize["result"]!["serverInfo"]!["name"]!.GetValue<string>().ShouldBe("sandbox");
        initialize["result"]!["capabilities"]!["tools"].ShouldNotBeNull();
        await _writer.WriteLineAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");

        var list = await RequestAsync(2, "tools/list", new JsonObject());
        list["result"]!["tools"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).ShouldBe(["run_code", "list_languages", "get_run"]);

        var call = await RequestAsync(3, "tools/call", new JsonObject
        {
            ["name"] = "run_code",
            ["arguments"] = new JsonObject { ["language"] = "python", ["code"] = "print(1+1)", ["purpose"] = "test" },
        });
        call["result"]!["isError"]!.GetValue<bool>().ShouldBeFalse();
        call["result"]!["structuredContent"]!["status"]!.GetValue<string>().ShouldBe("ok");
        var fence = call["result"]!["structuredContent"]!["outputFence"]!.GetValue<string>();
        call["result"]!["content"]![0]!["text"]!.GetValue<string>().ShouldContain($"--- stdout [{fence}] ---\n2\n--- end stdout [{fence}] ---\n");
    }

    [Fact]
    public async Task CallUnknownTool_IsAJsonRpcError()
    {
        await RequestAsync(1, "initialize", new JsonObject
        {
            ["protocolVersion"] = "2025-06-18",
            ["capabilities"] = new JsonObject(),
            ["clientInfo"] = new JsonObject { ["name"] = "test", ["version"] = "1" },
        });

        var call = await RequestAsync(2, "tools/call", new JsonObject { ["name"] = "rm_rf", ["arguments"] = new JsonObject() });

        call["error"]!["code"]!.GetValue<int>().ShouldBe(-32602);
        call["error"]!["message"]!.GetValue<string>().ShouldContain("Unknown tool 'rm_rf'");
    }

    private async Task<JsonNode> RequestAsync(int id, string method, JsonObject parameters)
    {
        var request = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = parameters };
        await _writer.WriteLineAsync(request.ToJsonString());
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (true)
        {
            var line = await _reader.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("the server closed its output");
            var message = JsonNode.Parse(line)!;
            // Notifications (no id) and answers to other requests are skipped.
            if (message["id"] is { } answerId && answerId.GetValueKind() == JsonValueKind.Number && answerId.GetValue<int>() == id)
            {
                return message;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _toServer.Writer.CompleteAsync();
        await _stop.CancelAsync();
        try
        {
            await _server.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (OperationCanceledException)
        {
            // Stopping by cancellation is the expected end.
        }

        _stop.Dispose();
        _writer.Dispose();
        _reader.Dispose();
    }
}
