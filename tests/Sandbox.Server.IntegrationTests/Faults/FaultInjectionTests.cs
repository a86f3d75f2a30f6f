using System.Diagnostics;
using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Faults;

/// <summary>
/// Faults injected under a real <c>sandbox serve</c> and the real, shared dockerd (issue 11, faults 3, 4, 5 and 10): the
/// service killed mid-run, dockerd killed mid-run, dockerd stopped past a wall limit, a container removed under its run.
/// Each asserts the run's real outcome and, through <see cref="FaultRig.AssertNothingLostOrLeftAsync"/>, that nothing was
/// lost, run twice, mislabelled or left behind. The daemon is restored after every test that touches it.
/// </summary>
/// <remarks>
/// The shared daemon, not a private one: a private dockerd would need every image loaded into it (over a gigabyte,
/// minutes on this machine) for each run of the suite. The collection runs alone, and each test restores the daemon.
/// </remarks>
[Trait("Category", "Integration")]
[Collection(FaultInjectionCollection.Name)]
public sealed class FaultInjectionTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static void Say(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Fact]
    public async Task KillMinus9OfTheService_RestartRecordsTheRunsRealOutcome()
    {
        await using var rig = await FaultRig.CreateAsync();
        await rig.StartAsync();
        var key = rig.Keys[0];
        // Still running when the service comes back (about 2 s), so recovery follows it to its end.
        var runId = await rig.PostAsync(key, "bash", "echo before; sleep 6; echo after; exit 3");
        await rig.WaitRunningAsync(key, runId);
        await Task.Delay(500, Token);
        rig.Serve!.Kill();

        var restart = Stopwatch.StartNew();
        await rig.StartAsync();
        var view = await rig.WaitCompletedAsync(key, runId, TimeSpan.FromSeconds(30));
        Say($"restart to recovered result: {restart.ElapsedMilliseconds} ms (the run had about 5 s left)");

        var result = view["result"]!;
        result["status"]!.GetValue<string>().ShouldBe("runtime_error", result.ToJsonString());
        result["exitCode"]!.GetValue<int>().ShouldBe(3);
        result["stdout"]!.GetValue<string>().ShouldContain("after", customMessage: "output after the restart is reattached and kept");
        result["message"]!.GetValue<string>().ShouldContain("service restarted");
        var records = (JsonArray)await rig.Http.AdminGetAsync(FaultRig.AdminKey, $"/admin/v1/audit?run={runId}&kind=result");
        records.Single()!["data"]!["recovered"]!.GetValue<bool>().ShouldBeTrue();

        await rig.AssertNothingLostOrLeftAsync();
    }

    [Fact]
    public async Task KillMinus9OfTheServiceAfterTheRunEnded_RestartRecordsItsExitNotInterrupted()
    {
        await using var rig = await FaultRig.CreateAsync();
        await rig.StartAsync();
        var key = rig.Keys[0];
        var runId = await rig.PostAsync(key, "bash", "echo started; sleep 3; exit 0");
        await rig.WaitRunningAsync(key, runId);
        // Past the hand-over of its files (killed during it, sandbox-entry fails and the program never runs).
        await Task.Delay(500, Token);
        rig.Serve!.Kill();
        // The container exits while no service is up; only the daemon's record and the cgroup remain.
        await Task.Delay(4000, Token);

        var restart = Stopwatch.StartNew();
        await rig.StartAsync();
        var result = (await rig.WaitCompletedAsync(key, runId, TimeSpan.FromSeconds(10)))["result"]!;
        Say($"restart to recovered result of a run that ended while the service was down: {restart.ElapsedMilliseconds} ms");
        result["status"]!.GetValue<string>().ShouldBe("ok", result.ToJsonString());
        result["exitCode"]!.GetValue<int>().ShouldBe(0);
        result["message"]!.GetValue<string>().ShouldContain("the service restarted while the program ran");
        await rig.AssertNothingLostOrLeftAsync();
    }

    [Fact]
    public async Task KillMinus9OfDockerd_RunEndsWithItsRealExitItsOutputSoFarAndItsCpuCharged()
    {
        await using var rig = await FaultRig.CreateAsync();
        await rig.StartAsync();
        var key = rig.Keys[0];
        // About a quarter second of CPU after the daemon is gone, then a clean exit with nothing more to write.
        var runId = await rig.PostAsync(key, "bash", "echo started; sleep 2; i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; exit 0");
        await rig.WaitRunningAsync(key, runId);
        await Task.Delay(500, Token);
        try
        {
            await DockerDaemon.KillAsync();
            // The run must not end now (fault 4: it became sandbox_error within 0.7 s while its container ran on).
            await Task.Delay(1000, Token);
            (await rig.GetAsync(key, runId))["state"]!.GetValue<string>().ShouldBe("running", "a lost daemon does not end a run whose processes still run");
            await Task.Delay(3000, Token);
        }
        finally
        {
            await DockerDaemon.RestoreAsync();
        }

        // Recorded as soon as the daemon tells the exit code: its circuit breaker, still open from the outage, is bypassed.
        var back = Stopwatch.StartNew();
        var result = (await rig.WaitCompletedAsync(key, runId, TimeSpan.FromSeconds(5)))["result"]!;
        Say($"after kill -9 of dockerd, recorded {back.ElapsedMilliseconds} ms after it answered again: {result.ToJsonString()}");
        result["status"]!.GetValue<string>().ShouldBe("ok", result.ToJsonString());
        result["exitCode"]!.GetValue<int>().ShouldBe(0);
        result["stdout"]!.GetValue<string>().ShouldBe("started\n");
        result["usage"]!["cpuMs"]!.GetValue<long>().ShouldBeGreaterThan(100, "the CPU it used after the daemon died is charged");
        result["message"]!.GetValue<string>().ShouldContain("Docker daemon stopped answering");
        await rig.AssertNothingLostOrLeftAsync();
    }

    [Fact]
    public async Task SigstopOfDockerdPastTheWallLimit_DeadlineHeldAndAnOnTimeExitIsOk()
    {
        await using var rig = await FaultRig.CreateAsync(agents: 2);
        await rig.StartAsync();
        var (spinner, onTime) = (rig.Keys[0], rig.Keys[1]);
        var late = await rig.PostAsync(spinner, "bash", "echo spinning; sleep 60");
        await rig.WaitRunningAsync(spinner, late);
        var clock = Stopwatch.StartNew();
        // Long enough to be still running when the daemon is stopped, even on a loaded machine; ends well before its deadline.
        var early = await rig.PostAsync(onTime, "bash", "echo hi; sleep 3; exit 0");
        await rig.WaitRunningAsync(onTime, early);
        await Task.Delay(300, Token);

        // The bash profile's wall limit is 10 s; the daemon stays stopped for 16 s.
        JsonObject lateView;
        try
        {
            await DockerDaemon.StopAsync();
            while (true)
            {
                lateView = await rig.GetAsync(spinner, late);
                if (lateView["state"]!.GetValue<string>() == "completed" || clock.Elapsed > TimeSpan.FromSeconds(16))
                {
                    break;
                }

                await Task.Delay(50, Token);
            }

            Say($"the 10 s run was recorded {clock.ElapsedMilliseconds} ms after it started, with the daemon stopped");
            lateView["state"]!.GetValue<string>().ShouldBe("completed", "the deadline holds while the daemon is stopped");
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(13));
            var onTimeView = await rig.GetAsync(onTime, early);
            onTimeView["state"]!.GetValue<string>().ShouldBe("running", "its exit code is the daemon's to tell: " + onTimeView.ToJsonString());
            await Task.Delay(TimeSpan.FromSeconds(16) - clock.Elapsed, Token);
        }
        finally
        {
            await DockerDaemon.RestoreAsync();
        }

        var spun = lateView["result"]!;
        Say("spinner: " + spun.ToJsonString());
        spun["status"]!.GetValue<string>().ShouldBe("timeout");
        spun["usage"]!["wallMs"]!.GetValue<long>().ShouldBeInRange(10_000, 11_000, "killed within a second of its deadline");
        spun["stdout"]!.GetValue<string>().ShouldBe("spinning\n");

        var exited = (await rig.WaitCompletedAsync(onTime, early, TimeSpan.FromSeconds(30)))["result"]!;
        Say("on time: " + exited.ToJsonString());
        exited["status"]!.GetValue<string>().ShouldBe("ok", "it exited 0 long before the deadline that passed while the daemon was stopped (fault 5)");
        exited["exitCode"]!.GetValue<int>().ShouldBe(0);
        exited["stdout"]!.GetValue<string>().ShouldBe("hi\n");
        exited["usage"]!["wallMs"]!.GetValue<long>().ShouldBeInRange(3_000, 6_000, "its end as the kernel saw it, not when the daemon told");
        await rig.AssertNothingLostOrLeftAsync();
    }

    [Fact]
    public async Task DockerRmFOfARunningContainer_KeepsTheStreamedOutputAndNamesNoContainer()
    {
        await using var rig = await FaultRig.CreateAsync();
        await rig.StartAsync();
        var key = rig.Keys[0];
        var runId = await rig.PostAsync(key, "bash", "echo before-removal; sleep 30");
        await rig.WaitRunningAsync(key, runId);
        await Task.Delay(1000, Token);
        var id = (await DockerProbe.ContainersOfRunAsync(runId)).Trim();
        id.ShouldNotBeEmpty();
        (await DockerDaemon.RunAsync("docker", "rm", "-f", id)).Code.ShouldBe(0);

        var result = (await rig.WaitCompletedAsync(key, runId, TimeSpan.FromSeconds(30)))["result"]!;
        Say("after docker rm -f: " + result.ToJsonString());
        result["status"]!.GetValue<string>().ShouldBe("sandbox_error");
        result["exitCode"].ShouldBeNull("137 was the removal's kill, not the program's exit");
        result["stdout"]!.GetValue<string>().ShouldBe("before-removal\n", "what was streamed before the removal is kept");
        var message = result["message"]!.GetValue<string>();
        message.ShouldContain("removed from outside the service");
        message.ShouldNotContain(id[..12], customMessage: "the message never shows the container id");
        await rig.AssertNothingLostOrLeftAsync();
    }
}
