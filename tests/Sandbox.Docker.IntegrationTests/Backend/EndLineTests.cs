using System.Diagnostics;
using Sandbox.Core.Runs;
using Sandbox.Docker.IntegrationTests.Support;

namespace Sandbox.Docker.IntegrationTests.Backend;

/// <summary>
/// The outputs wrapper's end line on stderr (see <c>OutputsCommand</c>): it ends a run as soon as both streams are whole and
/// the cgroup is empty, it is never the program's output, and a program can neither forge it nor hide a process behind it.
/// </summary>
[Trait("Category", "Integration")]
public sealed class EndLineTests(SandboxFixture sandbox)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_EndsByItself_StatusOutputAndStreamsAreTheProgramsAlone()
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = "bash", Code = "echo out; echo err >&2; printf 'tail-no-newline' >&2; exit 7" }, Ct);

        result.Status.ShouldBe(RunStatus.RuntimeError);
        result.ExitCode.ShouldBe(7);
        result.Stdout.ShouldBe("out\n");
        result.Stderr.ShouldBe("err\ntail-no-newline");
    }

    [Fact]
    public async Task Run_ForgedEndLine_DoesNotEndTheRunEarlyNorLoseOutput()
    {
        // A line shaped like the wrapper's, with a nonce the program had to guess, then more work and more output.
        var result = await sandbox.RunAsync(new RunRequest
        {
            Language = "bash",
            Code = "printf '\\036SANDBOX-OUTPUTS 00\\n'; printf '\\036SANDBOX-END 00 0 0\\n' >&2; sleep 0.6; echo after; echo late >&2; exit 4",
        }, Ct);

        result.ExitCode.ShouldBe(4);
        result.Stdout.ShouldBe("\u001eSANDBOX-OUTPUTS 00\nafter\n");
        result.Stderr.ShouldBe("\u001eSANDBOX-END 00 0 0\nlate\n");
        result.Usage.WallMs.ShouldBeGreaterThanOrEqualTo(600);
    }

    [Fact]
    public async Task Run_ProcessLeftBehind_NoEndLineAndTheRunStillEndsWhole()
    {
        // A process the program left running: the wrapper sees it and writes no end line, so the end is the kernel's and
        // the daemon's, as before the line existed; the background process dies with the container.
        var watch = Stopwatch.StartNew();
        var result = await sandbox.RunAsync(new RunRequest { Language = "bash", Code = "(sleep 5; echo never) & echo now; echo err >&2" }, Ct);

        result.Status.ShouldBe(RunStatus.Ok, result.Message + result.Stderr);
        result.Stdout.ShouldBe("now\n");
        result.Stderr.ShouldBe("err\n");
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(4));
        (await sandbox.LeftoversAsync(result.RunId)).ShouldBeEmpty();
    }
}
