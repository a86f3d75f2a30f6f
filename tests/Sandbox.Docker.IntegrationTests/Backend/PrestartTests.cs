using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Docker.Artifacts;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Execution;
using Sandbox.Docker.IntegrationTests.Support;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.IntegrationTests.Backend;

/// <summary>
/// A profile's <c>prestart</c> (Python's <c>images/python/sandbox_prestart.py</c>): the interpreter starts before the
/// program's files exist, and the program must still see exactly what <c>python3 main.py</c> gives it, and never run
/// before its files are whole. The expected texts are CPython 3.11's own for <c>python3 main.py</c>, checked by hand
/// against a plain run of the same image.
/// </summary>
[Trait("Category", "Integration")]
public sealed class PrestartTests(SandboxFixture sandbox)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_SeesWhatPython3MainPyGives_ArgvMainModulePathAndStdin()
    {
        var result = await sandbox.RunAsync(new RunRequest
        {
            Language = "python",
            Code = "import sys, os\nprint(sys.argv, sys.path[0], __name__, __file__, __doc__, __spec__)\n" +
                   "print(sorted(k for k in globals() if k.startswith('__')))\nprint(type(__loader__).__name__, __loader__.path)\nprint(input())\n",
            Stdin = "the program's own stdin\n",
        }, Ct);

        result.Status.ShouldBe(RunStatus.Ok, result.Message + result.Stderr);
        result.Stdout.ShouldBe(
            "['main.py'] /tmp __main__ /tmp/main.py None None\n" +
            "['__annotations__', '__builtins__', '__cached__', '__doc__', '__file__', '__loader__', '__name__', '__package__', '__spec__']\n" +
            "SourceFileLoader /tmp/main.py\n" +
            "the program's own stdin\n");
        result.Stderr.ShouldBeEmpty();
    }

    [Fact]
    public async Task Run_UncaughtException_TracebackStartsAtTheScriptAndExitIsOne()
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = "python", Code = "def f():\n    return 1/0\nf()\n" }, Ct);

        result.ExitCode.ShouldBe(1);
        result.Stderr.ShouldBe(
            "Traceback (most recent call last):\n" +
            "  File \"/tmp/main.py\", line 3, in <module>\n    f()\n" +
            "  File \"/tmp/main.py\", line 2, in f\n    return 1/0\n           ~^~\n" +
            "ZeroDivisionError: division by zero\n");
    }

    [Fact]
    public async Task Run_SyntaxError_ShownWithoutATraceback()
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = "python", Code = "print(\n" }, Ct);

        result.ExitCode.ShouldBe(1);
        result.Stderr.ShouldBe("  File \"/tmp/main.py\", line 1\n    print(\n         ^\nSyntaxError: '(' was never closed\n");
    }

    [Fact]
    public async Task Run_ExitPathsAndDescriptors_AsForAScript()
    {
        // sys.exit with a message, atexit, and the start-up descriptor 3 closed before the program's first line.
        var result = await sandbox.RunAsync(new RunRequest
        {
            Language = "python",
            Code = "import atexit, os, sys\natexit.register(lambda: print('atexit ran'))\n" +
                   "try:\n    os.fstat(3)\n    print('fd 3 open')\nexcept OSError:\n    print('fd 3 closed')\nsys.exit('bye')\n",
        }, Ct);

        result.ExitCode.ShouldBe(1);
        result.Stdout.ShouldBe("fd 3 closed\natexit ran\n");
        result.Stderr.ShouldBe("bye\n");
    }

    [Fact]
    public async Task Run_KeyboardInterrupt_DiesOfSigintAsAScriptDoes()
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = "python", Code = "print('before', flush=True)\nraise KeyboardInterrupt\n" }, Ct);

        result.Stdout.ShouldBe("before\n");
        result.Stderr.ShouldEndWith("KeyboardInterrupt\n");
        result.Signal.ShouldBe(2, "SIGINT's death, reported by the entry as a shell does (128 + 2) and read back as the signal");
        result.ExitCode.ShouldBeNull();
    }

    [Theory]
    [InlineData("SANDBOX-FILES 1\n1\n5 644 ../x\nhello", "sandbox-entry: file 1: '..' segments are refused\n")]
    [InlineData("SANDBOX-FILES 1\n1\n50 644 main.py\nprint('half a program')", "sandbox-entry: file 1: input ended before 50 bytes of main.py\n")]
    [InlineData("SANDBOX-FILES 2\n", "sandbox-entry: bad header: expected 'SANDBOX-FILES 1'\n")]
    public async Task Entry_BadStream_ThePrestartedInterpreterNeverRunsTheProgram(string stream, string expectedStderr)
    {
        // The interpreter was started before the stream; the entry refuses the stream, and the interpreter is killed
        // before its hand-over: no output of it (a run would print, or complain that main.py is missing), status 125.
        var outcome = await RunRawAsync(Encoding.UTF8.GetBytes(stream));

        outcome.ExitCode.ShouldBe(OutcomeClassifier.EntryFailedExit);
        Encoding.UTF8.GetString(outcome.Stderr).ShouldBe(expectedStderr);
        Encoding.UTF8.GetString(outcome.Stdout).ShouldBeEmpty();
    }

    [Fact]
    public async Task Entry_NoNonceAfterTheFiles_ThePrestartedInterpreterNeverRuns()
    {
        var code = "print('ran')"u8.ToArray();
        var outcome = await RunRawAsync(FilePayload.Encode([new PayloadFile("main.py", code, 0b110_100_100)]));

        outcome.ExitCode.ShouldBe(OutcomeClassifier.EntryFailedExit);
        Encoding.UTF8.GetString(outcome.Stderr).ShouldBe("sandbox-entry: the outputs nonce is missing\n");
        Encoding.UTF8.GetString(outcome.Stdout).ShouldBeEmpty();
    }

    /// <summary>The python profile's run step as the backend builds it (outputs and prestart), fed <paramref name="stdin"/> raw.</summary>
    private async Task<StepOutcome> RunRawAsync(byte[] stdin)
    {
        await DockerRequirement.EnsureAvailableAsync(sandbox.Docker);
        sandbox.Profiles.TryGet(SandboxFixture.Runtime == RuntimeNames.Runsc ? "python-gvisor" : "python", out var profile).ShouldBeTrue();
        var runId = "run_prestart" + Guid.NewGuid().ToString("N")[..10];
        var now = DateTimeOffset.UtcNow;
        var step = new ContainerStep
        {
            RunId = runId,
            StepName = "run",
            Image = profile!.Image,
            Command = OutputsCommand.RunCommand(profile.Command, profile.Prestart.ShouldNotBeNull(), outputs: true),
            Environment = profile.Environment,
            Limits = profile.Limits,
            Runtime = SandboxFixture.Runtime,
            CgroupParent = CgroupMeter.ParentFor(runId + "-run"),
            DeadlineUnixMs = (now + TimeSpan.FromMinutes(2)).ToUnixTimeMilliseconds(),
            KillAtUnixMs = (now + TimeSpan.FromMilliseconds(profile.Limits.WallTimeMs)).ToUnixTimeMilliseconds(),
        };
        var runner = new ContainerStepRunner(sandbox.Docker, sandbox.Meter, new DockerBackendOptions(), TimeProvider.System, NullLogger.Instance);
        var outcome = await runner.RunAsync(step, stdin, Ct);
        await runner.Removals.WhenIdleAsync();
        (await sandbox.LeftoversAsync(runId)).ShouldBeEmpty();
        return outcome;
    }
}
