using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Server.Mcp;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Tests.Mcp;

public sealed class SandboxMcpToolsTests
{
    private const string ContainerId = "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b";

    private readonly FakeRunGateway _gateway = new();

    private SandboxMcpTools Tools() => new(_gateway, Some.Ceilings(), NullLogger<SandboxMcpTools>.Instance);

    private static Dictionary<string, JsonElement> Arguments(string json) => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    private static Dictionary<string, JsonElement> PythonRun() => Arguments("""{"language":"python","code":"print(1+1)","purpose":"check arithmetic"}""");

    private static string Text(CallToolResult result) => result.Content.OfType<TextContentBlock>().Single().Text;

    private static JsonElement Structured(CallToolResult result) => result.StructuredContent.ShouldNotBeNull();

    [Fact]
    public async Task CallAsync_RunCodeOk_IsNotAnErrorAndCarriesOutputAndNumbers()
    {
        var result = await Tools().CallAsync(ToolDefinitions.RunCode, PythonRun(), TestContext.Current.CancellationToken);

        result.IsError.ShouldBe(false);
        Text(result).ShouldStartWith("ok · exit code 0 · python (profile python, docker) · run run_0195f3a2b4c64d7e8f90a1b2c3d4e5f6 · wall 120 ms, CPU 40 ms, memory 9 MiB · queued 3 ms");
        var structured = Structured(result);
        var fence = structured.GetProperty("outputFence").GetString();
        Text(result).ShouldEndWith($"\n--- stdout [{fence}] ---\n2\n--- end stdout [{fence}] ---\n--- stderr [{fence}]: empty ---");
        structured.GetProperty("status").GetString().ShouldBe("ok");
        structured.GetProperty("exitCode").GetInt32().ShouldBe(0);
        structured.GetProperty("runId").GetString().ShouldBe("run_0195f3a2b4c64d7e8f90a1b2c3d4e5f6");
        structured.GetProperty("usage").GetProperty("cpuMs").GetInt64().ShouldBe(40);
        structured.GetProperty("limits").GetProperty("memoryBytes").GetInt64().ShouldBe(256 * Some.MiB);
        structured.GetProperty("queueMs").GetInt64().ShouldBe(3);
        structured.GetProperty("runMs").GetInt64().ShouldBe(450);
        structured.TryGetProperty("hint", out _).ShouldBeFalse();
        _gateway.Requests.Single().Purpose.ShouldBe("check arithmetic");
    }

    [Fact]
    public async Task CallAsync_RunCodeMemoryLimit_IsAnErrorWithTheHint()
    {
        _gateway.OnRun = _ => GatewayResult.Of(Some.View(Some.Result(RunStatus.MemoryLimit) with
        {
            Signal = 9,
            LimitBreach = new LimitBreach(LimitNames.MemoryBytes, 256 * Some.MiB, 256 * Some.MiB),
        }));

        var result = await Tools().CallAsync(ToolDefinitions.RunCode, PythonRun(), TestContext.Current.CancellationToken);

        result.IsError.ShouldBe(true);
        Text(result).ShouldContain("\nmemory_limit: used 256 MiB of 256 MiB memory; the profile 'python-big' allows up to 512 MiB");
        Structured(result).GetProperty("status").GetString().ShouldBe("memory_limit");
        Structured(result).GetProperty("limitBreach").GetProperty("observed").GetInt64().ShouldBe(256 * Some.MiB);
        Structured(result).GetProperty("hint").GetString()!.ShouldStartWith("memory_limit:");
    }

    [Theory]
    [InlineData(RunStatus.RuntimeError)]
    [InlineData(RunStatus.CompileError)]
    [InlineData(RunStatus.Timeout)]
    [InlineData(RunStatus.CpuLimit)]
    [InlineData(RunStatus.OutputLimit)]
    [InlineData(RunStatus.SandboxError)]
    [InlineData(RunStatus.Cancelled)]
    public async Task CallAsync_AnyStatusButOk_IsAnErrorWhoseHintStartsWithTheStatus(RunStatus status)
    {
        _gateway.OnRun = _ => GatewayResult.Of(Some.View(Some.Result(status)));

        var result = await Tools().CallAsync(ToolDefinitions.RunCode, PythonRun(), TestContext.Current.CancellationToken);

        result.IsError.ShouldBe(true);
        Structured(result).GetProperty("hint").GetString()!.ShouldStartWith(status.ToWireName() + ":");
    }

    [Fact]
    public async Task CallAsync_UnknownLanguage_IsARejectionThatListsTheLanguages()
    {
        _gateway.OnRun = r => GatewayResult.Of(ApiProblem.Invalid([new FieldError("language", $"unknown language '{r.Language}'")]));

        var result = await Tools().CallAsync(ToolDefinitions.RunCode,
            Arguments("""{"language":"rust","code":"fn main() {}","purpose":"try rust"}"""), TestContext.Current.CancellationToken);

        result.IsError.ShouldBe(true);
        Text(result).ShouldStartWith("rejected: language 'rust' is not available; choose one of bash, javascript, python.");
        Structured(result).GetProperty("status").GetString().ShouldBe("rejected");
        Structured(result).GetProperty("problem").GetProperty("code").GetString().ShouldBe("invalid_request");
    }

    [Fact]
    public async Task CallAsync_BadArguments_AreRejectedWithoutCallingTheGateway()
    {
        var result = await Tools().CallAsync(ToolDefinitions.RunCode, Arguments("""{"language":"python","code":5}"""), TestContext.Current.CancellationToken);

        // What the reader refuses (types, unknown fields) never reaches the gateway; values are the validator's, behind it.
        result.IsError.ShouldBe(true);
        Text(result).ShouldContain("- code: has the wrong type; expected a string (got a number)");
        _gateway.Requests.ShouldBeEmpty();
    }

    [Fact]
    public async Task CallAsync_QueueFull_IsAnErrorThatSaysWhenToRetry()
    {
        _gateway.OnRun = _ => GatewayResult.Of(new ApiProblem { Status = 429, Code = "queue_full", Title = "Busy", Detail = "all 4 slots and 16 queue places are taken", RetryAfterSeconds = 2 });

        var result = await Tools().CallAsync(ToolDefinitions.RunCode, PythonRun(), TestContext.Current.CancellationToken);

        result.IsError.ShouldBe(true);
        Text(result).ShouldEndWith("Try again in 2 s.");
        Structured(result).GetProperty("problem").GetProperty("retryAfterSeconds").GetInt32().ShouldBe(2);
    }

    [Fact]
    public async Task CallAsync_SandboxErrorWithHostDetails_LeaksNoPathOrContainerId()
    {
        _gateway.OnRun = _ => GatewayResult.Of(Some.View(RunResult.SandboxError("run_1",
            $"container {ContainerId} failed: cannot open /var/lib/docker/overlay2/{ContainerId}/merged/tmp (see /home/ci/.docker/config.json)") with
        {
            Errors = [new FieldError("backend", $"image at /srv/images/{ContainerId[..12]} is broken")],
        }));

        var result = await Tools().CallAsync(ToolDefinitions.RunCode, PythonRun(), TestContext.Current.CancellationToken);

        result.IsError.ShouldBe(true);
        var everything = Text(result) + Structured(result).GetRawText();
        everything.ShouldNotContain(ContainerId[..12]);
        everything.ShouldNotContain("/var/lib");
        everything.ShouldNotContain("/home/ci");
        everything.ShouldNotContain("/srv/images");
        Text(result).ShouldContain("sandbox_error: the sandbox itself failed, not your program (container <id> failed: cannot open <path> (see <path>)).");
    }

    [Fact]
    public async Task CallAsync_GatewayThrows_IsASandboxErrorWithoutStackOrPath()
    {
        _gateway.OnRun = _ => throw new InvalidOperationException($"boom at /work/main/src/Sandbox.Server/Runs/RunLifecycle.cs in container {ContainerId}");

        var result = await Tools().CallAsync(ToolDefinitions.RunCode, PythonRun(), TestContext.Current.CancellationToken);

        result.IsError.ShouldBe(true);
        var everything = Text(result) + Structured(result).GetRawText();
        everything.ShouldStartWith("sandbox_error:");
        everything.ShouldNotContain("boom");
        everything.ShouldNotContain("/work/main");
        everything.ShouldNotContain(ContainerId);
        everything.ShouldNotContain(" at ");
        everything.ShouldNotContain("InvalidOperationException");
    }

    [Fact]
    public async Task CallAsync_GetRunInProgress_IsNotAnError()
    {
        _gateway.OnGet = id => GatewayResult.Of(new RunView { Id = id, State = "running", CreatedAt = default, QueueMs = 5 });

        var result = await Tools().CallAsync(ToolDefinitions.GetRun, Arguments("""{"runId":"run_1"}"""), TestContext.Current.CancellationToken);

        result.IsError.ShouldBe(false);
        Text(result).ShouldContain("call get_run with this runId again");
        Structured(result).GetProperty("state").GetString().ShouldBe("running");
    }

    [Fact]
    public async Task CallAsync_GetRunUnknown_IsAnError()
    {
        var result = await Tools().CallAsync(ToolDefinitions.GetRun, Arguments("""{"runId":"run_nope"}"""), TestContext.Current.CancellationToken);

        result.IsError.ShouldBe(true);
        Text(result).ShouldStartWith("run_not_found: no run 'run_nope' is known here");
    }

    [Fact]
    public async Task CallAsync_ListLanguages_GivesEachLanguageWithLimits()
    {
        var result = await Tools().CallAsync(ToolDefinitions.ListLanguages, null, TestContext.Current.CancellationToken);

        result.IsError.ShouldBe(false);
        Text(result).ShouldContain("python: default profile python (docker); wall time 10 s, CPU time 5 s, memory 256 MiB");
        Structured(result).GetProperty("languages").GetArrayLength().ShouldBe(3);
    }

    [Fact]
    public async Task CallAsync_UnknownTool_IsAProtocolError() =>
        await Should.ThrowAsync<McpProtocolException>(() => Tools().CallAsync("rm_rf", null, TestContext.Current.CancellationToken).AsTask());

    [Fact]
    public async Task ListToolsAsync_GatewayCannotListLanguages_StillListsTheTools()
    {
        _gateway.OnLanguages = () => throw new HttpRequestException("connection refused");

        var tools = await Tools().ListToolsAsync(TestContext.Current.CancellationToken);

        tools.Tools.Select(t => t.Name).ShouldBe([ToolDefinitions.RunCode, ToolDefinitions.ListLanguages, ToolDefinitions.GetRun]);
        tools.Tools[0].Description!.ShouldContain("call list_languages");
    }
}
