using Client = Sandbox.Docker.Client;
using Sandbox.Docker.Execution;
using Sandbox.Docker.Tests.Support;

namespace Sandbox.Docker.Tests.Execution;

public sealed class KillSwitchTests
{
    [Fact]
    public async Task Fire_WhileAlive_RecordsTheReasonAndKillsThroughTheCgroupWithoutWaitingForTheDaemon()
    {
        var docker = new FakeDockerClient { Behavior = (_, ct) => Task.Delay(Timeout.Infinite, ct) };
        var cgroupKills = 0;
        var kill = new KillSwitch(docker, "c1", () => true, () => ++cgroupKills > 0);

        kill.Fire(KillReason.WallTime);
        kill.Fire(KillReason.CpuTime);

        kill.Reason.ShouldBe(KillReason.WallTime, "the first reason wins");
        cgroupKills.ShouldBe(1);
        await kill.Fired.WaitAsync(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        docker.Calls(Client.DockerOperation.KillContainer).ShouldBe(1);
    }

    [Fact]
    public void Fire_AfterTheProcessesEnded_RecordsNothing()
    {
        var cgroupKills = 0;
        var kill = new KillSwitch(new FakeDockerClient(), "c1", () => false, () => ++cgroupKills > 0);

        kill.Fire(KillReason.WallTime);

        kill.Reason.ShouldBe(KillReason.None, "the program exited before its deadline: the late deadline is not its outcome");
        cgroupKills.ShouldBe(0);
    }

    [Fact]
    public void Fire_OutputCapAfterTheProcessesEnded_IsStillRecorded()
    {
        var kill = new KillSwitch(new FakeDockerClient(), "c1", () => false, () => false);

        kill.Fire(KillReason.Output);

        kill.Reason.ShouldBe(KillReason.Output, "the bytes past the cap were written before the end: the breach is what happened");
    }

    [Fact]
    public void Fire_CgroupUnknown_StillKills()
    {
        var kill = new KillSwitch(new FakeDockerClient(), "c1", () => null, () => false);

        kill.Fire(KillReason.Output);

        kill.Reason.ShouldBe(KillReason.Output);
    }
}
