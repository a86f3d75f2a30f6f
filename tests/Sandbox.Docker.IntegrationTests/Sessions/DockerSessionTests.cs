using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Docker.IntegrationTests.Support;
using Sandbox.Docker.Sessions;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.IntegrationTests.Sessions;

/// <summary>
/// Sessions against the real daemon, under the runtime the suite runs: state kept between cells, each cell's own limits,
/// a breach that ends the kernel (state lost, the next cell on a fresh one) without touching another session, and removal.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DockerSessionTests(SandboxFixture sandbox)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Execute_ThreeCells_KeepVariablesImportsAndFiles()
    {
        await using var session = await OpenAsync();

        var first = await CellAsync(session, "import json\nx = 41\nopen('kept.txt', 'w').write('on tmpfs')\nprint('set')");
        first.Status.ShouldBe(RunStatus.Ok, first.Message + first.Stderr);
        first.Stdout.ShouldBe("set\n");

        var second = await CellAsync(session, "x + 1");
        second.Status.ShouldBe(RunStatus.Ok, second.Message + second.Stderr);
        second.Stdout.ShouldBe("42\n");

        var third = await CellAsync(session, "print(json.dumps({'x': x}), open('kept.txt').read())");
        third.Stdout.ShouldBe("{\"x\": 41} on tmpfs\n");
        session.Restarts.ShouldBe(0);
    }

    [Fact]
    public async Task Execute_CellLeavesHostileOutputs_CappedAndRefusedAsARunsAre_AndTheNextCellHandsOutNothing()
    {
        await using var session = await OpenAsync();

        // A link to /etc/passwd, markup, and more files than the cap: what a run's outputs step refuses, a cell's kernel refuses too.
        var flood = await CellAsync(session, """
            import os
            os.symlink('/etc/passwd', '/tmp/outputs/0passwd')
            open('/tmp/outputs/a-page.html', 'w').write('<script>alert(1)</script>')
            for i in range(40):
                open('/tmp/outputs/f%02d.txt' % i, 'w').write(str(i))
            print('left', flush=True)
            """);

        flood.Status.ShouldBe(RunStatus.Ok, flood.Message + flood.Stderr);
        flood.Stdout.ShouldBe("left\n", "the tar after the marker is not the cell's output");
        var returned = flood.Artifacts.ShouldNotBeNull();
        returned.Count.ShouldBeLessThanOrEqualTo(32);
        returned.ShouldNotContain(a => a.Path == "0passwd");
        returned.Single(a => a.Path == "a-page.html").MediaType.ShouldBe("application/octet-stream");
        var dropped = flood.ArtifactsDropped.ShouldNotBeNull();
        dropped.Single(d => d.Path == "0passwd").Reason.ShouldBe("not_a_regular_file");
        dropped.ShouldContain(d => d.Reason == "too_many_files");

        var next = await CellAsync(session, "sorted(os.listdir('/tmp/outputs'))");
        next.Stdout.ShouldBe("[]\n", "each file comes back with the cell that left it");
        next.Artifacts.ShouldBeNull();
        session.Restarts.ShouldBe(0);
    }

    [Fact]
    public async Task Execute_ExceptionAndExit_AreTheCellsOutcomeAndKeepTheState()
    {
        await using var session = await OpenAsync();
        await CellAsync(session, "y = 7");

        var failed = await CellAsync(session, "1/0");
        failed.Status.ShouldBe(RunStatus.RuntimeError);
        failed.ExitCode.ShouldBe(1);
        failed.Stderr.ShouldContain("ZeroDivisionError");
        failed.Stderr.ShouldNotContain("_run", Case.Sensitive, "the kernel's own frames stay out of the traceback");

        var exited = await CellAsync(session, "import sys\nsys.exit(3)");
        exited.ExitCode.ShouldBe(3);

        (await CellAsync(session, "print(y)")).Stdout.ShouldBe("7\n");
        session.Restarts.ShouldBe(0);
    }

    [Fact]
    public async Task Execute_CellExhaustsMemory_KernelRestartsAndAnotherSessionKeepsItsState()
    {
        await using var hungry = await OpenAsync();
        await using var bystander = await OpenAsync();
        await CellAsync(hungry, "z = 1");
        await CellAsync(bystander, "kept = 'yes'");

        var oom = await CellAsync(hungry, "b = b'x' * (1024 * 1024 * 1024)");
        oom.Status.ShouldBe(RunStatus.MemoryLimit, oom.Message);
        oom.Message.ShouldNotBeNull().ShouldContain("state");
        hungry.TakeNotes(LastRunId).ShouldBe(new SessionCellNotes(Restarted: false, StateLost: true));

        var after = await CellAsync(hungry, "print('z' in globals())");
        after.Stdout.ShouldBe("False\n");
        hungry.TakeNotes(LastRunId).ShouldBe(new SessionCellNotes(Restarted: true, StateLost: false));
        hungry.Restarts.ShouldBe(1);

        (await CellAsync(bystander, "print(kept)")).Stdout.ShouldBe("yes\n");
        bystander.Restarts.ShouldBe(0);
    }

    [Fact]
    public async Task Execute_CellPastItsWallTime_IsKilledWithinItsOwnDeadline()
    {
        await using var session = await OpenAsync();
        var started = System.Diagnostics.Stopwatch.StartNew();
        var spin = await CellAsync(session, "while True: pass", new LimitOverrides { WallTimeMs = 1000, CpuTimeMs = 3000 });
        started.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(4));
        spin.Status.ShouldBe(RunStatus.Timeout, spin.Message);
        spin.LimitBreach!.Limit.ShouldBe(LimitNames.WallTimeMs);

        var cpu = await CellAsync(session, "while True: pass", new LimitOverrides { CpuTimeMs = 500 });
        cpu.Status.ShouldBe(RunStatus.CpuLimit, cpu.Message);
        cpu.Usage.CpuMs.ShouldBeLessThan(1500);
        session.Restarts.ShouldBe(1);
    }

    [Fact]
    public async Task Execute_CellFloodsStdout_StopsAtItsOwnCap()
    {
        await using var session = await OpenAsync();
        var flood = await CellAsync(session, "while True: print('y' * 1000)", new LimitOverrides { StdoutBytes = 10_000 });
        flood.Status.ShouldBe(RunStatus.OutputLimit, flood.Message);
        flood.StdoutBytes.Length.ShouldBeLessThanOrEqualTo(10_000);
        (await CellAsync(session, "print('fresh')")).Stdout.ShouldBe("fresh\n");
    }

    [Fact]
    public async Task Close_RemovesTheKernelContainer()
    {
        var session = await OpenAsync();
        (await LeftoversAsync(session.Id)).Count.ShouldBe(1);
        await session.CloseAsync("test");
        (await LeftoversAsync(session.Id)).ShouldBeEmpty();
        var late = await CellAsync(session, "print(1)");
        late.Status.ShouldBe(RunStatus.Cancelled);
    }

    private string LastRunId { get; set; } = "";

    private async Task<DockerSession> OpenAsync()
    {
        await DockerRequirement.EnsureAvailableAsync(sandbox.Docker);
        await sandbox.EnsureRuntimeRegisteredAsync();
        var plan = Plan(new RunRequest { Language = "python", Code = "pass" });
        plan = await sandbox.Pipeline.PinAsync(plan, Token);
        var sessions = new DockerSessions(sandbox.Docker, sandbox.Meter, TimeProvider.System, NullLogger<DockerSession>.Instance);
        return await sessions.OpenAsync("ses_" + Guid.NewGuid().ToString("N"), plan, new DockerSessionOptions(), Token);
    }

    private RunPlan Plan(RunRequest request)
    {
        var (plan, errors) = sandbox.Pipeline.Plan(sandbox.ForRuntime(request));
        plan.ShouldNotBeNull(string.Join("; ", errors));
        return plan;
    }

    private async Task<RunResult> CellAsync(DockerSession session, string code, LimitOverrides? limits = null)
    {
        var plan = Plan(new RunRequest { Language = "python", Code = code, Limits = limits }) with { Session = session };
        LastRunId = plan.RunId;
        return await sandbox.Pipeline.ExecuteAsync(plan, Token);
    }

    private async Task<IReadOnlyList<Client.ContainerSummary>> LeftoversAsync(string sessionId) =>
        [.. (await sandbox.Docker.ListContainersAsync([SandboxLabels.Managed + "=true"], Token)).Where(c => c.Labels?.GetValueOrDefault(SandboxLabels.RunId) == sessionId)];
}
