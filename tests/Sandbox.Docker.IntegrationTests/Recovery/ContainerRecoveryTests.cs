using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Execution;
using Sandbox.Docker.IntegrationTests.Support;
using Sandbox.Docker.Recovery;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.IntegrationTests.Recovery;

/// <summary>
/// Start-up recovery against the real daemon, with containers left as a killed service leaves them: created and never
/// started, exited while nobody watched, and still running past nobody's deadline. Each gets its real end (or none)
/// and is removed.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ContainerRecoveryTests(SandboxFixture sandbox)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Recover_CreatedNeverStarted_GivesNoResultAndRemovesIt()
    {
        var (runId, _, _) = await CreateAsync(["sleep", "60"], wallMs: 10_000);

        var found = await RecoverAsync(runId);

        found.Result.ShouldBeNull("nothing ran: the run is reconciled as interrupted");
        (await sandbox.LeftoversAsync(runId)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Recover_ExitedWhileNobodyWatched_IsItsRealExitWithItsCpuAndSaysOutputWasLost()
    {
        var (runId, id, _) = await CreateAsync(["/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exit 3"], wallMs: 10_000);
        await StartWithNoFilesAsync(id);
        using (var bound = CancellationTokenSource.CreateLinkedTokenSource(Token))
        {
            bound.CancelAfter(TimeSpan.FromSeconds(20));
            (await sandbox.Docker.WaitContainerAsync(id, bound.Token)).StatusCode.ShouldBe(3);
        }

        var result = (await RecoverAsync(runId)).Result.ShouldNotBeNull();

        result.Status.ShouldBe(RunStatus.RuntimeError);
        result.ExitCode.ShouldBe(3);
        result.Usage.CpuMs.ShouldBeGreaterThan(0);
        result.Message.ShouldNotBeNull().ShouldContain("before the restart was lost with the service");
        (await sandbox.LeftoversAsync(runId)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Recover_StillRunningPastItsDeadline_IsKilledThroughItsCgroupAndRecordedTimeout()
    {
        var (runId, id, parent) = await CreateAsync(["/bin/sh", "-c", "echo ticking; sleep 60"], wallMs: 2_000);
        await StartWithNoFilesAsync(id);
        sandbox.Meter.IsPopulated(parent).ShouldBe(true);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = (await RecoverAsync(runId)).Result.ShouldNotBeNull();

        result.Status.ShouldBe(RunStatus.Timeout);
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(6), "followed until its deadline, no longer");
        result.Usage.WallMs.ShouldBeInRange(1_900, 3_500);
        result.Message.ShouldNotBeNull().ShouldContain("service restarted");
        (await sandbox.LeftoversAsync(runId)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Recover_FollowedRunHandsOutItsOutputs_StdoutEndsAtTheMarkerAndNothingIsMistakenForOutput()
    {
        var command = Sandbox.Docker.Artifacts.OutputsCommand.RunCommand(["/bin/sh", "-c", "sleep 1; echo done; head -c 200000 /dev/zero > /tmp/outputs/big.bin"], prestart: null, outputs: true);
        var (runId, id, _) = await CreateAsync(command, wallMs: 10_000);
        await StartWithNoFilesAsync(id, Sandbox.Docker.Artifacts.OutputsCommand.NonceLine(Sandbox.Docker.Artifacts.OutputsCommand.NewNonce()));

        var result = (await RecoverAsync(runId)).Result.ShouldNotBeNull();

        result.Status.ShouldBe(RunStatus.Ok, result.Message + result.Stderr);
        result.Stdout.ShouldBe("done\n", "the tar after the marker is not the program's output, and its nonce is gone with the service");
        result.Usage.OutputBytes.ShouldBeLessThan(1000);
        (await sandbox.LeftoversAsync(runId)).ShouldBeEmpty();
    }

    private async Task<RecoveredRun> RecoverAsync(string runId)
    {
        var recovery = new ContainerRecovery(sandbox.Docker, sandbox.Meter, TimeProvider.System, NullLogger.Instance);
        var found = await recovery.RecoverAsync(id => id == runId, Token);
        return found.ShouldHaveSingleItem();
    }

    /// <summary>A run step's container, labelled as the backend labels it, under the runtime being tested.</summary>
    private async Task<(string RunId, string Id, string Parent)> CreateAsync(IReadOnlyList<string> command, long wallMs)
    {
        await DockerRequirement.EnsureAvailableAsync(sandbox.Docker);
        var runId = "run_recover" + Guid.NewGuid().ToString("N")[..10];
        sandbox.Profiles.TryGet(SandboxFixture.Runtime == RuntimeNames.Runsc ? "python-gvisor" : "python", out var profile).ShouldBeTrue();
        var limits = profile!.Limits with { WallTimeMs = wallMs };
        var now = DateTimeOffset.UtcNow;
        var step = new ContainerStep
        {
            RunId = runId,
            StepName = "run",
            Image = profile.Image,
            Command = command,
            Environment = new Dictionary<string, string>(),
            Limits = limits,
            Runtime = SandboxFixture.Runtime,
            CgroupParent = CgroupMeter.ParentFor(runId + "-run"),
            DeadlineUnixMs = (now + TimeSpan.FromMinutes(2)).ToUnixTimeMilliseconds(),
            KillAtUnixMs = (now + TimeSpan.FromMilliseconds(wallMs)).ToUnixTimeMilliseconds(),
        };
        var spec = ContainerSpecBuilder.Build(step, SeccompProfile.Runner);
        return (runId, await sandbox.Docker.CreateContainerAsync(spec.Request, spec.Name, Token), step.CgroupParent);
    }

    /// <summary>Starts it as the backend would, with an empty file stream, then lets go of it, as a killed service does.</summary>
    private async Task StartWithNoFilesAsync(string id, byte[]? after = null)
    {
        await using var attached = await sandbox.Docker.AttachAsync(id, Token);
        await sandbox.Docker.StartContainerAsync(id, Token);
        await attached.WriteStdinAsync(FilePayload.Encode([]), Token);
        if (after is not null)
        {
            await attached.WriteStdinAsync(after, Token);
        }

        await attached.CloseStdinAsync(Token);
        await Task.Delay(300, Token);
    }
}
