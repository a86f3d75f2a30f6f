using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Wasm.Backend;

namespace Sandbox.Wasm.Tests.Backend;

/// <summary>
/// A profile that names its guest module (as <c>python-wasm</c> will): the module and the preopen come from
/// the profile's folder, the caller's code lands in <c>/tmp/&lt;sourceFile&gt;</c>, and the guest sees only
/// what the profile configures.
/// </summary>
[Trait("Category", "Integration")]
public sealed class WasmBackendProfileModuleTests : IDisposable
{
    private readonly DirectoryInfo _profileDir = Directory.CreateTempSubdirectory("wasm-profile-");

    public WasmBackendProfileModuleTests()
    {
        // The worker binds the preopen as uid 65534, as it would a profile folder under artifacts/: it must be readable.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_profileDir.FullName, (UnixFileMode)0b111_101_101);
        }
        File.Copy(Path.Join(AppContext.BaseDirectory, "Fixtures", "Backend", "env-args.wasm"), Path.Join(_profileDir.FullName, "probe.wasm"));
        Directory.CreateDirectory(Path.Join(_profileDir.FullName, "runtime", "lib"));
        File.WriteAllText(Path.Join(_profileDir.FullName, "runtime", "lib", "data.txt"), "runtime data\n");
    }

    public void Dispose() => _profileDir.Delete(recursive: true);

    private RunPlan Plan(IReadOnlyList<InputFile>? files = null)
    {
        var limits = new ResourceLimits
        {
            WallTimeMs = 10_000,
            CpuTimeMs = 1_000,
            MemoryBytes = 16L * 1024 * 1024,
            Pids = 1,
            StdoutBytes = 64 * 1024,
            StderrBytes = 64 * 1024,
            FileSizeBytes = 1024 * 1024,
            TmpBytes = 1024 * 1024,
        };
        return new RunPlan
        {
            RunId = "run_test",
            Request = new RunRequest { Language = "probe", Code = "source text\n", Files = files },
            Profile = new Profile
            {
                Name = "probe-wasm",
                Language = "probe",
                Backend = BackendNames.Wasm,
                Module = "probe.wasm",
                Preopens = new Dictionary<string, string> { ["/usr/local"] = "runtime" },
                SourceFile = "input.txt",
                Environment = new Dictionary<string, string> { ["LANG"] = "C.UTF-8" },
                BaseDirectory = _profileDir.FullName,
                Limits = limits,
            },
            Limits = limits,
            Runtime = RuntimeNames.Runc,
        };
    }

    [Fact]
    public async Task Execute_ProfileModule_GetsTheCodeInTmpAndOnlyTheProfilesArgsAndEnvironment()
    {
        var backend = new WasmBackend(TimeProvider.System, NullLogger<WasmBackend>.Instance);

        var result = await backend.ExecuteAsync(Plan(), TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.Ok);
        result.Stdout.ShouldBe("arg probe.wasm\narg /tmp/input.txt\nenv LANG=C.UTF-8\nno /etc\ninput source text\n");
    }

    [Fact]
    public async Task Execute_ModuleRebuiltOnDisk_RunsTheNewModuleNotTheOneTheBackendHeld()
    {
        var backend = new WasmBackend(TimeProvider.System, NullLogger<WasmBackend>.Instance);
        var first = await backend.ExecuteAsync(Plan(), TestContext.Current.CancellationToken);
        first.Stdout.ShouldStartWith("arg probe.wasm\n");

        // The backend holds the module it read; a rebuild (another length, a later write time) must be read again.
        var path = Path.Join(_profileDir.FullName, "probe.wasm");
        File.Copy(Path.Join(AppContext.BaseDirectory, "Fixtures", "Backend", "hello.wasm"), path, overwrite: true);
        File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(path).AddSeconds(1));
        var second = await backend.ExecuteAsync(Plan(), TestContext.Current.CancellationToken);

        second.Status.ShouldBe(RunStatus.Ok, second.Message);
        second.Stdout.ShouldBe("hello\n");
    }

    [Fact]
    public async Task Execute_ProfilePreopenMissing_SandboxInfrastructureException()
    {
        Directory.Delete(Path.Join(_profileDir.FullName, "runtime"), recursive: true);
        var backend = new WasmBackend(TimeProvider.System, NullLogger<WasmBackend>.Instance);

        await Should.ThrowAsync<Sandbox.Core.Errors.SandboxInfrastructureException>(() => backend.ExecuteAsync(Plan(), TestContext.Current.CancellationToken));
    }
}
