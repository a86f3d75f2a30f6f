using System.Text;
using System.Text.Json;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Wasm.Backend;
using Sandbox.Wasm.Worker;

namespace Sandbox.Wasm.Tests.Worker;

/// <summary>The worker's hand-written JSON (<see cref="WorkerJson"/>) against the context the service reads and writes with.</summary>
public sealed class WorkerJsonTests
{
    private static WorkerRequest FullRequest() => new()
    {
        RunId = "run_1",
        Args = ["python.wasm", "-c", "print(\"é\\n\")", "/tmp/main.py"],
        Environment = new Dictionary<string, string> { ["HOME"] = "/tmp", ["LANG"] = "C.UTF-8" },
        Stdin = [1, 2, 3, 0, 255],
        Files = new Dictionary<string, byte[]> { ["main.py"] = Encoding.UTF8.GetBytes("print(1)"), ["data/x.bin"] = [0, 9] },
        Preopens = [new WorkerPreopen("/usr/local", "/preopen/0"), new WorkerPreopen("/data", "/preopen/1")],
        MemoryBytes = 268435456,
        TmpBytes = 67108864,
        FileSizeBytes = 16777216,
        StdoutBytes = 1048576,
        StderrBytes = 1048577,
        Fuel = 123456789012,
        DeadlineMs = 20000,
        Artifacts = new ArtifactLimits(3, 1000, 2000),
        CallerModule = true,
        Snapshot = WarmSnapshotMode.Restore,
    };

    private static WasmOutcome FullOutcome() => new()
    {
        ExitCode = 3,
        Trap = WasmTrapKind.Interrupted,
        OutputLimit = OutputStreamKind.Stderr,
        LinkError = "env.f: \"missing\"",
        MemoryMinimumRefused = "m",
        MissingStart = true,
        InvalidModule = "i",
        FilesRejected = "f",
        OutOfMemory = true,
        Failure = "x\u0001y",
        MemoryGrowRefused = true,
        GuestMemoryBytes = 1L << 40,
        FuelUsed = 77,
        OutputBytes = 12,
        StdoutTruncated = true,
        StderrTruncated = true,
        Phases = new WorkerPhases { Read = new(1.5, 0.1), Compile = new(2, 3), PreInit = new(4.25, 5), Parked = null, Run = new(0, 1e-1) },
        ArtifactsDropped = [new DroppedArtifact { Path = "a", Reason = "file_too_large", SizeBytes = 9, Detail = "d" }, new DroppedArtifact { Path = "*", Reason = "r", Detail = "e" }],
    };

    private static string ViaContext(WorkerRequest request) => JsonSerializer.Serialize(request, WorkerJsonContext.Default.WorkerRequest);

    private static string ViaContext(WasmOutcome outcome) => JsonSerializer.Serialize(outcome, WorkerJsonContext.Default.WasmOutcome);

    [Fact]
    public void ReadRequest_WhatTheServiceWrites_ReadsEveryMember()
    {
        var request = FullRequest();

        var read = WorkerJson.ReadRequest(JsonSerializer.SerializeToUtf8Bytes(request, WorkerJsonContext.Default.WorkerRequest));

        ViaContext(read).ShouldBe(ViaContext(request));
        read.Stdin.ShouldBe(request.Stdin);
        read.Files["data/x.bin"].ShouldBe(new byte[] { 0, 9 });
    }

    [Fact]
    public void ReadRequest_OptionalMembersAbsentOrNull_ReadAsTheContextDoes()
    {
        var request = FullRequest() with { Fuel = null, Artifacts = null, CallerModule = false, Snapshot = WarmSnapshotMode.None, Stdin = [] };

        var read = WorkerJson.ReadRequest(JsonSerializer.SerializeToUtf8Bytes(request, WorkerJsonContext.Default.WorkerRequest));

        ViaContext(read).ShouldBe(ViaContext(request));
    }

    [Fact]
    public void WriteRequest_AnyRequest_IsWhatTheContextWrites()
    {
        foreach (var request in new[] { FullRequest(), FullRequest() with { Fuel = null, Artifacts = null, Snapshot = WarmSnapshotMode.Take } })
        {
            Encoding.UTF8.GetString(WorkerJson.WriteRequest(request)).ShouldBe(ViaContext(request));
        }
    }

    [Fact]
    public void WriteOutcome_EveryMemberSet_ReadsBackInTheServiceAsTheSameOutcome()
    {
        var outcome = FullOutcome();

        var read = JsonSerializer.Deserialize(WorkerJson.WriteOutcome(outcome), WorkerJsonContext.Default.WasmOutcome).ShouldNotBeNull();

        ViaContext(read).ShouldBe(ViaContext(outcome));
    }

    // The worker's JSON is written by hand (WorkerJson) beside the context the service uses, so a member added to either
    // type must be set in the full instances above, or the round trips would pass without it.
    [Fact]
    public void FullInstances_SetEveryMemberTheContextWrites()
    {
        Unset(FullRequest()).ShouldBeEmpty();
        Unset(FullOutcome()).ShouldBeEmpty();

        static string[] Unset(object full) =>
        [
            .. full.GetType().GetProperties()
                .Where(p => !Attribute.IsDefined(p, typeof(System.Text.Json.Serialization.JsonIgnoreAttribute)))
                .Where(p => p.GetValue(full) is null || Equals(p.GetValue(full), p.PropertyType.IsValueType ? Activator.CreateInstance(p.PropertyType) : null))
                .Select(p => p.Name),
        ];
    }

    [Fact]
    public void WriteOutcome_Empty_IsWhatTheContextWrites() =>
        Encoding.UTF8.GetString(WorkerJson.WriteOutcome(new WasmOutcome())).ShouldBe(ViaContext(new WasmOutcome()));

    // Refused: each alteration names what a request no service writes looks like; the worker then exits with 2 (unreadable).
    [Theory]
    [InlineData("missing deadline", "\"deadlineMs\":20000,", "")]
    [InlineData("required member null", "\"runId\":\"run_1\"", "\"runId\":null")]
    [InlineData("member twice", "\"runId\":\"run_1\"", "\"runId\":\"run_1\",\"runId\":\"run_2\"")]
    [InlineData("a number where a string belongs", "\"runId\":\"run_1\"", "\"runId\":1")]
    [InlineData("a limit past 64 bits", "\"memoryBytes\":268435456", "\"memoryBytes\":99999999999999999999")]
    [InlineData("a fractional limit", "\"memoryBytes\":268435456", "\"memoryBytes\":1.5")]
    [InlineData("unknown snapshot mode", "\"snapshot\":\"Restore\"", "\"snapshot\":\"Everything\"")]
    [InlineData("not base64", "\"stdin\":\"AQIDAP8=\"", "\"stdin\":\"***\"")]
    [InlineData("a file count past 32 bits", "\"maxFiles\":3", "\"maxFiles\":4294967296")]
    [InlineData("a preopen with an extra member", "\"path\":\"/preopen/0\"", "\"path\":\"/preopen/0\",\"rw\":true")]
    [InlineData("an environment name twice", "\"HOME\":\"/tmp\"", "\"HOME\":\"/tmp\",\"HOME\":\"/root\"")]
    public void ReadRequest_Altered_IsRefused(string attack, string from, string to)
    {
        var json = ViaContext(FullRequest());
        json.ShouldContain(from, customMessage: attack);

        Should.Throw<JsonException>(() => WorkerJson.ReadRequest(Encoding.UTF8.GetBytes(json.Replace(from, to, StringComparison.Ordinal))), attack);
    }

    [Theory]
    [InlineData("trailing content", "{} {}")]
    [InlineData("truncated", "{\"runId\":\"r\"")]
    [InlineData("not an object", "[]")]
    [InlineData("too deep", "{\"x\":[[[[[[1]]]]]]}")]
    public void ReadRequest_NotOneRequestObject_IsRefused(string attack, string json) =>
        Should.Throw<JsonException>(() => WorkerJson.ReadRequest(Encoding.UTF8.GetBytes(json)), attack);
}
