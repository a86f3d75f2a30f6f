using System.Diagnostics;
using Sandbox.Core.Profiles;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.IntegrationTests.Support;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.IntegrationTests.Cgroups;

/// <summary>
/// The kill that holds a deadline when the daemon does not answer: every process of a running step, found through its
/// cgroup and killed by the kernel, under the runtime being tested (runc, or gVisor's runsc, whose sandbox and gofer
/// processes are what the cgroup holds).
/// </summary>
[Trait("Category", "Integration")]
public sealed class CgroupKillTests(SandboxFixture sandbox)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Kill_RunningStep_EndsItsContainerAndEmptiesItsCgroup()
    {
        await DockerRequirement.EnsureAvailableAsync(sandbox.Docker);
        var runId = "run_cgkill" + Guid.NewGuid().ToString("N")[..10];
        var gvisor = SandboxFixture.Runtime == RuntimeNames.Runsc;
        sandbox.Profiles.TryGet(gvisor ? "python-gvisor" : "python", out var profile).ShouldBeTrue();
        var step = new ContainerStep
        {
            RunId = runId,
            StepName = "run",
            Image = profile!.Image,
            Command = ["sleep", "60"],
            Environment = new Dictionary<string, string>(),
            Limits = profile.Limits,
            Runtime = SandboxFixture.Runtime,
            CgroupParent = CgroupMeter.ParentFor(runId + "-run"),
            DeadlineUnixMs = DateTimeOffset.UtcNow.AddMinutes(2).ToUnixTimeMilliseconds(),
            KillAtUnixMs = DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds(),
        };
        var spec = ContainerSpecBuilder.Build(step, SeccompProfile.Runner);
        var id = await sandbox.Docker.CreateContainerAsync(spec.Request, spec.Name, Token);
        try
        {
            // Nothing is attached: sandbox-entry waits on stdin for its files, alive, which is all this needs.
            await sandbox.Docker.StartContainerAsync(id, Token);
            sandbox.Meter.IsPopulated(step.CgroupParent).ShouldBe(true);

            var clock = Stopwatch.StartNew();
            sandbox.Meter.Kill(step.CgroupParent).ShouldBeTrue();
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(Token);
            bound.CancelAfter(TimeSpan.FromSeconds(10));
            var exit = await sandbox.Docker.WaitContainerAsync(id, bound.Token);
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(3), "the kernel's kill is immediate");
            exit.StatusCode.ShouldNotBe(0);
            sandbox.Meter.IsPopulated(step.CgroupParent).ShouldNotBe(true, "no process of the step is left");
        }
        finally
        {
            await sandbox.Docker.RemoveContainerAsync(id, CancellationToken.None);
            sandbox.Meter.TryRemove(step.CgroupParent);
        }
    }
}
