using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Runs;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Execution;
using Sandbox.Docker.IntegrationTests.Support;
using Sandbox.Docker.Reaping;
using Sandbox.Docker.Resilience;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.IntegrationTests.Backend;

/// <summary>Cancellation, the reaper, and a daemon that cannot be reached.</summary>
[Trait("Category", "Integration")]
public sealed class LifecycleTests(SandboxFixture sandbox)
{
    [Fact]
    public async Task Run_CancelledWhileRunning_KillsAndRemovesTheContainer()
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var request = sandbox.ForRuntime(new RunRequest { Language = "bash", Code = "echo started; sleep 60" });
        await DockerRequirement.EnsureAvailableAsync(sandbox.Docker);
        var (plan, _) = sandbox.Pipeline.Plan(request);
        plan.ShouldNotBeNull();

        var run = sandbox.Pipeline.ExecuteAsync(plan, cancel.Token);
        await WaitUntilAsync(async () => (await sandbox.LeftoversAsync(plan.RunId)).Count > 0);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(300));

        await Should.ThrowAsync<OperationCanceledException>(run);
        (await sandbox.LeftoversAsync(plan.RunId)).ShouldBeEmpty();
    }

    [Fact]
    public async Task ReapOnce_ExpiredLabelledContainer_IsRemovedAndLiveOnesAreKept()
    {
        await DockerRequirement.EnsureAvailableAsync(sandbox.Docker);
        var now = DateTimeOffset.FromUnixTimeMilliseconds(TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds());
        string expired = await CreateIdleAsync("reap-expired", now.AddMinutes(-1));
        string live = await CreateIdleAsync("reap-live", now.AddMinutes(10));
        try
        {
            var reaper = new ContainerReaper(sandbox.Docker, sandbox.Meter, TimeProvider.System, NullLogger<ContainerReaper>.Instance);

            var removed = await reaper.ReapOnceAsync(TestContext.Current.CancellationToken);

            removed.ShouldBeGreaterThanOrEqualTo(1);
            (await sandbox.LeftoversAsync("run_reap-expired")).ShouldBeEmpty();
            (await sandbox.LeftoversAsync("run_reap-live")).ShouldHaveSingleItem();
        }
        finally
        {
            await sandbox.Docker.RemoveContainerAsync(expired, CancellationToken.None);
            await sandbox.Docker.RemoveContainerAsync(live, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Run_DockerUnreachable_IsSandboxErrorThatSaysSo()
    {
        using var client = new DockerClient(DockerEndpoint.Parse("unix:///nonexistent/docker.sock"));
        var docker = new ResilientDockerClient(client, new DockerResilienceOptions(), TimeProvider.System);
        var backend = new DockerBackend(docker, sandbox.Meter, new DockerBackendOptions(), TimeProvider.System, NullLogger<DockerBackend>.Instance);
        var pipeline = new RunPipeline(sandbox.Profiles, [backend], TimeProvider.System, NullLogger<RunPipeline>.Instance);

        var result = await pipeline.RunAsync(new RunRequest { Language = "python", Code = "print(1)" }, TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.SandboxError);
        result.Message.ShouldNotBeNull().ShouldContain("Docker");
    }

    private async Task<string> CreateIdleAsync(string runId, DateTimeOffset deadline)
    {
        var step = new ContainerStep
        {
            RunId = "run_" + runId,
            StepName = "run",
            Image = "sandbox/bash:latest",
            Command = ["sleep", "60"],
            Environment = new Dictionary<string, string>(),
            Limits = sandbox.Profiles.TryGet("bash", out var bash) ? bash.Limits : throw new InvalidOperationException("no bash profile"),
            Runtime = "runc",
            CgroupParent = CgroupMeter.ParentFor("run_" + runId + "-run"),
            DeadlineUnixMs = deadline.ToUnixTimeMilliseconds(),
            KillAtUnixMs = deadline.ToUnixTimeMilliseconds(),
        };
        var spec = ContainerSpecBuilder.Build(step, SeccompProfile.Runner);
        return await sandbox.Docker.CreateContainerAsync(spec.Request, spec.Name + "-" + Guid.NewGuid().ToString("N")[..6], TestContext.Current.CancellationToken);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 100 && !await condition(); i++)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
