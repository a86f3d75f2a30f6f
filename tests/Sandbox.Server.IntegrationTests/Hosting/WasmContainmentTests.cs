using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Hosting;

/// <summary>
/// The WebAssembly attacks that once took the in-process engine (and the service with it) to 23.7 GB, each run
/// against a real <c>sandbox serve</c> while an innocent run goes on beside it. What a user cares about is asserted,
/// not only the status: the service's own peak memory, the deadline, the other run, and nothing left behind.
/// Fixtures are in <c>Fixtures/HostileWasm</c>, each with its <c>@expect</c> status.
/// </summary>
[Trait("Category", "Integration")]
public sealed class WasmContainmentTests : IClassFixture<WasmContainmentTests.Service>
{
    /// <summary>How much the service's peak resident memory may rise during one attack. It runs no guest code itself, so
    /// an attack costs it only the request, the result and the output (a few MiB); the attacks reached gigabytes.</summary>
    private const long ServiceGrowthCeilingBytes = 96L * 1024 * 1024;

    /// <summary>How much the service's peak RSS may rise over the runs near the body cap. It levels off: about 0.5 GB
    /// after 20 runs and 0.6-0.8 GB after 60 or 120, two at a time. Before their code was dropped at their end and the
    /// large-object heap compacted, 120 runs took it up by 8.3 GB.</summary>
    private const long LargeRequestsGrowthCeilingBytes = 1536L * 1024 * 1024;

    private const long WallTimeMs = 10_000;

    /// <summary>A fifth of the wall time, so the CPU limit is reached first even on a loaded 2-core machine.</summary>
    private const long CpuTimeMs = 2_000;

    /// <summary>The Python attack's CPU: about 1.8 s on a quiet machine, more under load; still short of the wall time.</summary>
    private const long PythonCpuTimeMs = 6_000;

    private readonly Service _service;

    public WasmContainmentTests(Service service) => _service = service;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string> Attacks() => [
        "jit_locals_bomb.wasm", "load_locals_bomb.wasm", "table_bomb.wasm", "tmp_truncate_bomb.py", "cpu_tiered_loop.wasm",
        "nest_bomb.wasm", "brtable_bomb.wasm", "far_data.wasm", "poll_bomb.wasm", "iovec_bomb.wasm",
    ];

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task Attack_IsContained_AndTheServiceAndAnotherRunAreUnharmed(string fixture)
    {
        var (body, expect) = Load(fixture);
        _service.Serve.ResetPeak();
        var before = _service.Serve.PeakResidentBytes();

        var clock = Stopwatch.StartNew();
        var attack = PostAsync(body);
        await Task.Delay(200, Token);
        var innocent = await PostAsync(new { language = "wasm", code = Convert.ToBase64String(HelloModule), purpose = "run beside an attack" });
        var result = await attack;
        var elapsed = clock.Elapsed;

        innocent["status"]!.GetValue<string>().ShouldBe("ok", innocent.ToJsonString());
        innocent["stdout"]!.GetValue<string>().ShouldBe("hello\n");
        if (expect.Status != "any")
        {
            result["status"]!.GetValue<string>().ShouldBe(expect.Status, result.ToJsonString());
        }
        else
        {
            result["status"]!.GetValue<string>().ShouldBeOneOf(["ok", "rejected", "memory_limit", "timeout", "cpu_limit"], result.ToJsonString());
        }

        if (expect.Status == "cpu_limit")
        {
            // cpuTimeMs is CPU time, measured by the kernel: the whole budget is usable, and the kill comes within 10 %.
            var breach = result["limitBreach"]!;
            breach["limit"]!.GetValue<string>().ShouldBe("cpuTimeMs");
            breach["observed"]!.GetValue<long>().ShouldBeInRange(CpuTimeMs, CpuTimeMs * 11 / 10);
        }

        if (expect.Stdout is { } stdout)
        {
            result["stdout"]!.GetValue<string>().ShouldContain(stdout);
        }

        var growth = _service.Serve.PeakResidentBytes() - before;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{fixture}: {result["status"]}, {elapsed.TotalMilliseconds:0} ms, usage {result["usage"]!.ToJsonString()}; service peak RSS {before / (1024 * 1024)} -> {(before + growth) / (1024 * 1024)} MiB");
        elapsed.TotalMilliseconds.ShouldBeLessThan(WallTimeMs + 1000, "the run must end within its wall-clock limit plus a second");
        growth.ShouldBeLessThan(ServiceGrowthCeilingBytes, $"the service's peak RSS rose by {growth / (1024 * 1024)} MiB during the attack");
        result["runtime"]!.GetValue<string>().ShouldBe("bubblewrap");
        (await LeftoverWorkerCgroupsAsync((string)result["runId"]!, (string)innocent["runId"]!)).ShouldBeEmpty("every worker's cgroup is removed with its run");
    }

    /// <summary>
    /// Not an attack on the engine but on the service: requests near the body cap, one after another. Each held its
    /// code in the service's memory for ResultRetention after its end, and each left copies on the large-object heap,
    /// which the GC did not compact: 103 runs of a 5.8 MB module took the service to 5.2 GB. The module here is the
    /// hello module with a 5.8 MB custom section, so each run is short and the test is about the requests alone.
    /// </summary>
    [Fact]
    public async Task ManyRequestsNearTheBodyCap_TheServicesMemoryStaysBounded()
    {
        const int Runs = 120;
        const int AtOnce = 2;
        var padding = new byte[5_800_000];
        new Random(13).NextBytes(padding);
        var name = "pad"u8.ToArray();
        var payload = new List<byte>(Leb(name.Length)) { };
        payload.AddRange(name);
        payload.AddRange(padding);
        byte[] module = [.. HelloModule, 0, .. Leb(payload.Count), .. payload];
        var body = new { language = "wasm", code = Convert.ToBase64String(module), purpose = "a request near the body cap" };
        _service.Serve.ResetPeak();
        var before = _service.Serve.PeakResidentBytes();

        for (var done = 0; done < Runs; done += AtOnce)
        {
            foreach (var result in await Task.WhenAll(Enumerable.Range(0, AtOnce).Select(_ => PostAsync(body))))
            {
                result["status"]!.GetValue<string>().ShouldBe("ok", result.ToJsonString());
                result["stdout"]!.GetValue<string>().ShouldBe("hello\n");
            }
        }

        var growth = _service.Serve.PeakResidentBytes() - before;
        TestContext.Current.TestOutputHelper?.WriteLine($"{Runs} runs of a {module.Length / 1_000_000.0:0.0} MB module, {AtOnce} at a time: service peak RSS {before / (1024 * 1024)} -> {(before + growth) / (1024 * 1024)} MiB");
        growth.ShouldBeLessThan(LargeRequestsGrowthCeilingBytes, $"the service's peak RSS rose by {growth / (1024 * 1024)} MiB over {Runs} runs");

        static byte[] Leb(int value)
        {
            var bytes = new List<byte>();
            do
            {
                var b = (byte)(value & 0x7F);
                value >>= 7;
                bytes.Add(value == 0 ? b : (byte)(b | 0x80));
            }
            while (value != 0);
            return [.. bytes];
        }
    }

    private async Task<JsonObject> PostAsync(object body)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(body) };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _service.Key);
        using var response = await _service.Serve.Http.SendAsync(post, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return (JsonObject)JsonNode.Parse(text)!["result"]!;
    }

    private static (object Body, (string Status, string? Stdout) Expect) Load(string fixture)
    {
        var path = Path.Join(AppContext.BaseDirectory, "Fixtures", "HostileWasm", fixture);
        // The Python attack needs the interpreter's own start-up and 640 MB of writes: it gets more CPU than the modules.
        var limits = new { wallTimeMs = WallTimeMs, cpuTimeMs = fixture.EndsWith(".py", StringComparison.Ordinal) ? PythonCpuTimeMs : CpuTimeMs };
        if (fixture.EndsWith(".py", StringComparison.Ordinal))
        {
            var code = File.ReadAllText(path);
            return (new { language = "python", backend = "wasm", code, limits, purpose = "hostile fixture " + fixture }, Expectation(code.Split('\n')));
        }

        var header = File.ReadAllLines(Path.ChangeExtension(path, ".txt"));
        return (new { language = "wasm", code = Convert.ToBase64String(File.ReadAllBytes(path)), limits, purpose = "hostile fixture " + fixture }, Expectation(header));
    }

    private static (string Status, string? Stdout) Expectation(IEnumerable<string> lines)
    {
        string? status = null, stdout = null;
        foreach (var line in lines.Select(l => l.TrimStart('#', ' ')))
        {
            status ??= line.StartsWith("@expect ", StringComparison.Ordinal) ? line["@expect ".Length..].Trim() : null;
            stdout ??= line.StartsWith("@stdout ", StringComparison.Ordinal) ? line["@stdout ".Length..].Trim() : null;
        }

        return (status ?? throw new InvalidOperationException("fixture has no @expect line"), stdout);
    }

    /// <summary>
    /// The runs' worker cgroups still present once their endings have had time: a run with a result is answered at it,
    /// and its killed worker's exit and cgroup removal follow within milliseconds (a few seconds is a failure).
    /// </summary>
    private static async Task<string[]> LeftoverWorkerCgroupsAsync(params string[] runIds)
    {
        var parent = "/sys/fs/cgroup/memory/sandbox-wasm";
        var clock = Stopwatch.StartNew();
        while (true)
        {
            string[] left = Directory.Exists(parent) ? [.. runIds.SelectMany(id => Directory.EnumerateDirectories(parent, id + "-*"))] : [];
            if (left.Length == 0 || clock.Elapsed > TimeSpan.FromSeconds(5))
            {
                return left;
            }

            await Task.Delay(20, Token);
        }
    }

    /// <summary>(module (import "wasi_snapshot_preview1" "fd_write" …) (func (export "_start") … prints "hello\n")), from the backend tests' fixture.</summary>
    private static byte[] HelloModule => File.ReadAllBytes(Path.Join(AppContext.BaseDirectory, "Fixtures", "HostileWasm", "hello.wasm"));

    /// <summary>One real <c>sandbox serve</c> for the class, with an agent allowed the WebAssembly profiles.</summary>
    public sealed class Service : IAsyncLifetime
    {
        private const string AdminKey = "containment-test-admin-key-0123456789abcdef012345";
        private readonly string _data = Path.Join(Path.GetTempPath(), "sandbox-containment-" + Guid.NewGuid().ToString("N"));

        internal ServeProcess Serve { get; private set; } = null!;

        public string Key { get; private set; } = "";

        public async ValueTask InitializeAsync()
        {
            await using (var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(_data), TimeProvider.System, CancellationToken.None))
            {
                var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(
                    new AgentSpec { Name = "containment", Profiles = ["wasm", "python-wasm"], MaxConcurrentRuns = 4, RatePerMinute = 600 }, "test", CancellationToken.None);
                Key = created.Value.ShouldNotBeNull(created.Message).Key;
            }

            Serve = ServeProcess.Start(_data, AdminKey);
            await Serve.WaitHealthyAsync(CancellationToken.None);
        }

        public ValueTask DisposeAsync()
        {
            Serve.Dispose();
            Directory.Delete(_data, recursive: true);
            return ValueTask.CompletedTask;
        }
    }
}
