using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Docker.IntegrationTests.Support;

namespace Sandbox.Docker.IntegrationTests.Backend;

/// <summary>Every status, triggered for real, with the exact account the result must give.</summary>
[Trait("Category", "Integration")]
public sealed class StatusTests(SandboxFixture sandbox)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_HelloWorld_IsOkWithOutputUsageAndLimits()
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = "python", Code = "import sys\nprint('hello')\nprint('warn', file=sys.stderr)" }, Ct);

        result.Status.ShouldBe(RunStatus.Ok, result.Message + result.Stderr);
        result.ExitCode.ShouldBe(0);
        result.Stdout.ShouldBe("hello\n");
        result.Stderr.ShouldBe("warn\n");
        result.StdoutTruncated.ShouldBeFalse();
        result.Usage.WallMs.ShouldBeGreaterThan(0);
        result.Usage.CpuMs.ShouldBeGreaterThan(0);
        result.Usage.PeakMemoryBytes.ShouldBeGreaterThan(1024 * 1024);
        result.Usage.OutputBytes.ShouldBe(11);
        result.Limits.ShouldNotBeNull();
        result.Backend.ShouldBe("docker");
        result.Runtime.ShouldBe(SandboxFixture.Runtime);
    }

    [Fact]
    public async Task Run_StdinAndInputFiles_ReachTheProgram()
    {
        var result = await sandbox.RunAsync(new RunRequest
        {
            Language = "python",
            Code = "import sys\nprint(sys.stdin.read().upper(), end='')\nprint(open('data/in.txt').read())",
            Stdin = "from stdin\n",
            Files = [new InputFile { Path = "data/in.txt", Content = "from a file" }],
        }, Ct);

        result.Status.ShouldBe(RunStatus.Ok, result.Stderr);
        result.Stdout.ShouldBe("FROM STDIN\nfrom a file\n");
    }

    [Fact]
    public async Task Run_NonZeroExit_IsRuntimeErrorWithTheExitCode()
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = "bash", Code = "echo out; exit 3" }, Ct);

        result.Status.ShouldBe(RunStatus.RuntimeError);
        result.ExitCode.ShouldBe(3);
        result.Signal.ShouldBeNull();
        result.Stdout.ShouldBe("out\n");
    }

    [Fact]
    public async Task Run_Segfault_IsRuntimeErrorWithSignal11()
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = "c", Code = "int main(void){ volatile int *p = 0; return *p; }" }, Ct);

        result.Status.ShouldBe(RunStatus.RuntimeError, result.Message + result.Stderr);
        result.Signal.ShouldBe(11);
    }

    [Fact]
    public async Task Run_PythonException_IsRuntimeErrorWithTraceback()
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = "python", Code = "raise ValueError('boom')" }, Ct);

        result.Status.ShouldBe(RunStatus.RuntimeError);
        result.ExitCode.ShouldBe(1);
        result.Stderr.ShouldContain("ValueError: boom");
    }

    [Fact]
    public async Task Run_CDoesNotCompile_IsCompileErrorWithDiagnostics()
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = "c", Code = "int main(void) { return undefined_name; }" }, Ct);

        result.Status.ShouldBe(RunStatus.CompileError);
        result.Stderr.ShouldContain("undefined_name");
    }

    [Fact]
    public async Task Run_CCompilesAndRuns_IsOkWithStdin()
    {
        var result = await sandbox.RunAsync(new RunRequest
        {
            Language = "c",
            Code = "#include <stdio.h>\n#include <math.h>\nint main(void){ int n; scanf(\"%d\", &n); printf(\"%d %.1f\\n\", n * 2, sqrt(16.0)); return 0; }",
            Stdin = "21",
        }, Ct);

        result.Status.ShouldBe(RunStatus.Ok, result.Message + result.Stderr);
        result.Stdout.ShouldBe("42 4.0\n");
    }

    [Fact]
    public async Task Run_CSharpDoesNotCompile_IsCompileError()
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = "csharp", Code = "int x = \"not an int\";" }, Ct);

        result.Status.ShouldBe(RunStatus.CompileError, result.Message + result.Stderr);
    }

    [Fact]
    public async Task Run_CSharpReferenceDirective_IsRefusedAsCompileError()
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = "csharp", Code = "#r \"System.Net.Http\"\nSystem.Console.WriteLine(1);" }, Ct);

        result.Status.ShouldBe(RunStatus.CompileError, result.Message + result.Stderr);
        result.Stdout.ShouldBeEmpty();
    }

    [Fact]
    public async Task Run_Sleep_IsTimeoutWithTheWallClockBreach()
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = "bash", Code = "sleep 30", Limits = new LimitOverrides { WallTimeMs = 1500 } }, Ct);

        result.Status.ShouldBe(RunStatus.Timeout);
        result.LimitBreach.ShouldNotBeNull().Limit.ShouldBe(LimitNames.WallTimeMs);
        result.LimitBreach.Value.ShouldBe(1500);
        result.LimitBreach.Observed.ShouldBeGreaterThanOrEqualTo(1500);
        result.Usage.WallMs.ShouldBeLessThan(10_000);
    }

    [Fact]
    public async Task Run_Spin_IsCpuLimitWithTheCpuBreach()
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = "bash", Code = "while :; do :; done", Limits = new LimitOverrides { CpuTimeMs = 800 } }, Ct);

        result.Status.ShouldBe(RunStatus.CpuLimit, result.Message);
        result.LimitBreach.ShouldNotBeNull().Limit.ShouldBe(LimitNames.CpuTimeMs);
        result.LimitBreach.Observed.ShouldBeGreaterThanOrEqualTo(800);
        result.Usage.CpuMs.ShouldBeGreaterThanOrEqualTo(800);
    }

    [Fact]
    public async Task Run_Allocate_IsMemoryLimitWithTheMemoryBreach()
    {
        var limit = 64L * 1024 * 1024;
        var result = await sandbox.RunAsync(new RunRequest
        {
            Language = "python",
            Code = "x = []\nwhile True: x.append(bytearray(8 << 20))",
            Limits = new LimitOverrides { MemoryBytes = limit },
        }, Ct);

        result.Status.ShouldBe(RunStatus.MemoryLimit, result.Message + result.Stderr);
        var breach = result.LimitBreach.ShouldNotBeNull();
        breach.Limit.ShouldBe(LimitNames.MemoryBytes);
        breach.Value.ShouldBe(limit);
        breach.Observed.ShouldBeGreaterThanOrEqualTo(limit);
    }

    [Fact]
    public async Task Run_Flood_IsOutputLimitWithTruncatedStdout()
    {
        var result = await sandbox.RunAsync(new RunRequest
        {
            Language = "bash",
            Code = "yes hello",
            Limits = new LimitOverrides { StdoutBytes = 10_000 },
        }, Ct);

        result.Status.ShouldBe(RunStatus.OutputLimit);
        result.StdoutTruncated.ShouldBeTrue();
        result.Stdout.Length.ShouldBe(10_000);
        result.LimitBreach.ShouldNotBeNull().Limit.ShouldBe(LimitNames.StdoutBytes);
        result.LimitBreach.Observed.ShouldBeGreaterThan(10_000);
    }

    [Fact]
    public async Task Run_InvalidRequest_IsRejectedAndCreatesNoContainer()
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = "python", Code = "print(1)", Files = [new InputFile { Path = "../escape", Content = "" }] }, Ct);

        result.Status.ShouldBe(RunStatus.Rejected);
        result.Errors.ShouldNotBeNull().ShouldHaveSingleItem().Field.ShouldBe("files[0].path");
        result.Usage.WallMs.ShouldBe(0);
        (await sandbox.LeftoversAsync(result.RunId)).ShouldBeEmpty();
    }

    public static TheoryData<string, RunRequest, string> InputsTheProgramNeverSaw => new()
    {
        // Attack: a file that is also a folder made sandbox-entry fail with exit 125, reported as runtime_error.
        { "file-and-folder", new RunRequest { Language = "python", Code = "print(1)", Files = [new InputFile { Path = "a", Content = "1" }, new InputFile { Path = "a/b", Content = "2" }] }, "files[1].path" },
        // Attack: a 256-byte name (ENAMETOOLONG in the container).
        { "long-name", new RunRequest { Language = "python", Code = "print(1)", Files = [new InputFile { Path = new string('é', 128), Content = "" }] }, "files[0].path" },
        // Attack: RLIMIT_FSIZE of 1 byte, so even the source file cannot be written.
        { "tiny-file-size", new RunRequest { Language = "python", Code = "print(1)", Limits = new LimitOverrides { FileSizeBytes = 1 } }, "limits.fileSizeBytes" },
        // Attack: below Docker's 6 MiB minimum: the daemon refused the container and its text reached the caller.
        { "tiny-memory", new RunRequest { Language = "python", Code = "print(1)", Limits = new LimitOverrides { MemoryBytes = 4 * 1024 * 1024 } }, "limits.memoryBytes" },
    };

    [Theory]
    [MemberData(nameof(InputsTheProgramNeverSaw))]
    public async Task Run_InputNoContainerCouldStartWith_IsRejectedNamingTheField(string attack, RunRequest request, string field)
    {
        var result = await sandbox.RunAsync(request, Ct);

        result.Status.ShouldBe(RunStatus.Rejected, attack + ": " + result.Message);
        result.Errors.ShouldNotBeNull().ShouldHaveSingleItem().Field.ShouldBe(field);
        result.Message.ShouldNotBeNull().ShouldNotContain("daemon");
        (await sandbox.LeftoversAsync(result.RunId)).ShouldBeEmpty();
    }
}
