using System.Text.Json.Nodes;
using Sandbox.Guard.Alerts;

namespace Sandbox.Guard.Tests.Alerts;

public sealed class RunDetectorsTests
{
    private const string Loop = RunDetectors.LoopDetector;
    private const string Spike = RunDetectors.RateSpikeDetector;
    private const string Streak = RunDetectors.FailureStreakDetector;

    private static TimeSpan Sec(double s) => TimeSpan.FromSeconds(s);

    private static TimeSpan Min(double m) => TimeSpan.FromMinutes(m);

    // ---- loop ----

    [Fact]
    public void OnAdmitted_SameCodeAtThreshold_FiresLoopOnce()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();

        detectors.OnAdmitted(bot.Admitted(Sec(0))).Of(Loop).ShouldBeEmpty();
        detectors.OnAdmitted(bot.Admitted(Sec(30))).Of(Loop).ShouldBeEmpty();
        Alert alert = detectors.OnAdmitted(bot.Admitted(Sec(60))).Of(Loop).ShouldHaveSingleItem();

        string sha = AgentRuns.Sha("print('hi')");
        alert.AgentId.ShouldBe("agt_ci");
        alert.AgentName.ShouldBe("ci-bot");
        alert.At.ShouldBe(AgentRuns.Start + Sec(60));
        alert.Summary.ShouldBe($"agent ci-bot ran the same code (sha256 {sha[..8]}…) 3 times in 10 min");
        alert.Details["codeSha256"]!.GetValue<string>().ShouldBe(sha);
        alert.Details["count"]!.GetValue<int>().ShouldBe(3);
        alert.Details["threshold"]!.GetValue<int>().ShouldBe(3);
        alert.Details["windowSeconds"]!.GetValue<double>().ShouldBe(600);
        alert.Details["runId"]!.GetValue<string>().ShouldBe(bot.LastRunId);
    }

    [Fact]
    public void Withdraw_AdmissionWhoseCommitFailed_DoesNotCountTowardsALoop()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();

        detectors.OnAdmitted(bot.Admitted(Sec(0))).Of(Loop).ShouldBeEmpty();
        detectors.OnAdmitted(bot.Admitted(Sec(30))).Of(Loop).ShouldBeEmpty();
        detectors.Withdraw(bot.AgentId, bot.LastRunId).ShouldBeTrue("its commit failed: it was never admitted");
        detectors.Withdraw(bot.AgentId, bot.LastRunId).ShouldBeFalse("taken back once");

        detectors.OnAdmitted(bot.Admitted(Sec(60))).Of(Loop).ShouldBeEmpty("two real admissions, not three");
        detectors.OnAdmitted(bot.Admitted(Sec(90))).Of(Loop).ShouldHaveSingleItem().Details["count"]!.GetValue<int>().ShouldBe(3);
    }

    [Fact]
    public void Withdraw_NotTheNewestAdmission_ChangesNothing()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();
        detectors.OnAdmitted(bot.Admitted(Sec(0)));
        var first = bot.LastRunId;
        detectors.OnAdmitted(bot.Admitted(Sec(30)));

        detectors.Withdraw(bot.AgentId, first).ShouldBeFalse();
        detectors.Withdraw("agt_other", bot.LastRunId).ShouldBeFalse();
        detectors.OnAdmitted(bot.Admitted(Sec(60))).Of(Loop).ShouldHaveSingleItem();
    }

    [Fact]
    public void OnAdmitted_DifferentCode_NoLoop()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();

        // Three programs, each admitted twice: one short of the threshold each, six runs in all.
        for (int i = 0; i < 6; i++)
        {
            detectors.OnAdmitted(bot.Admitted(Min(i), code: $"f{i % 3}()")).Of(Loop).ShouldBeEmpty();
        }
    }

    [Fact]
    public void OnAdmitted_LoopWindowSlides_OldAdmissionsExpire()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();

        detectors.OnAdmitted(bot.Admitted(Min(0))).Of(Loop).ShouldBeEmpty();
        detectors.OnAdmitted(bot.Admitted(Min(5))).Of(Loop).ShouldBeEmpty();
        // The window is (At − 10 min, At]: the run at 0 is exactly 10 minutes old and no longer counts.
        detectors.OnAdmitted(bot.Admitted(Min(10))).Of(Loop).ShouldBeEmpty();
        detectors.OnAdmitted(bot.Admitted(Min(10.5))).Of(Loop).ShouldHaveSingleItem().Details["count"]!.GetValue<int>().ShouldBe(3);
    }

    [Fact]
    public void OnAdmitted_LoopAcrossAgents_CountsEachAgentAlone()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var one = new AgentRuns("agt_one", "one");
        var two = new AgentRuns("agt_two", "two");

        detectors.OnAdmitted(one.Admitted(Sec(0))).ShouldBeEmpty();
        detectors.OnAdmitted(two.Admitted(Sec(1))).ShouldBeEmpty();
        detectors.OnAdmitted(one.Admitted(Sec(2))).ShouldBeEmpty();
        detectors.OnAdmitted(two.Admitted(Sec(3))).ShouldBeEmpty();
        detectors.OnAdmitted(one.Admitted(Sec(4))).Of(Loop).ShouldHaveSingleItem().AgentId.ShouldBe("agt_one");
        detectors.OnAdmitted(two.Admitted(Sec(5))).Of(Loop).ShouldHaveSingleItem().AgentId.ShouldBe("agt_two");
    }

    [Fact]
    public void OnAdmitted_LoopInCooldown_SilentThenNeedsFreshRunsAfterIt()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();
        for (int i = 0; i < 3; i++)
        {
            detectors.OnAdmitted(bot.Admitted(Min(i)));
        }

        // Still looping during the 5 min cooldown (fired at 2 min): silent, though 3 more runs reach the threshold.
        detectors.OnAdmitted(bot.Admitted(Min(3))).Of(Loop).ShouldBeEmpty();
        detectors.OnAdmitted(bot.Admitted(Min(4))).Of(Loop).ShouldBeEmpty();
        detectors.OnAdmitted(bot.Admitted(Min(5))).Of(Loop).ShouldBeEmpty();

        // After the cooldown the runs since the last alert (3, 4, 5 and this one) meet the threshold on their own.
        detectors.OnAdmitted(bot.Admitted(Min(7))).Of(Loop).ShouldHaveSingleItem().Details["count"]!.GetValue<int>().ShouldBe(4);
    }

    [Fact]
    public void OnAdmitted_LoopAfterCooldown_ReaccumulatesFromZero()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();
        for (int i = 0; i < 3; i++)
        {
            detectors.OnAdmitted(bot.Admitted(Min(i)));
        }

        // Three runs of this code are still inside the 10 min window, but they were counted by the last alert.
        detectors.OnAdmitted(bot.Admitted(Min(8))).Of(Loop).ShouldBeEmpty();
        detectors.OnAdmitted(bot.Admitted(Min(8.5))).Of(Loop).ShouldBeEmpty();
        detectors.OnAdmitted(bot.Admitted(Min(9))).Of(Loop).ShouldHaveSingleItem();
    }

    // ---- rate_spike ----

    [Fact]
    public void OnAdmitted_NewAgentReachesMinRunsInOneWindow_FiresAgainstZeroBaseline()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();

        for (int i = 0; i < 4; i++)
        {
            detectors.OnAdmitted(bot.Admitted(Sec(i * 10), code: $"n{i}")).ShouldBeEmpty();
        }

        Alert alert = detectors.OnAdmitted(bot.Admitted(Sec(40), code: "n4")).ShouldHaveSingleItem();
        alert.Detector.ShouldBe(Spike);
        alert.Summary.ShouldBe("agent ci-bot had 5 runs admitted in 1 min, with none in the 10 min before");
        alert.Details["current"]!.GetValue<int>().ShouldBe(5);
        alert.Details["baselinePerWindow"]!.GetValue<double>().ShouldBe(0);
        alert.Details["factor"]!.GetValue<double>().ShouldBe(4);
        alert.Details["minRuns"]!.GetValue<int>().ShouldBe(5);
        alert.Details["windowSeconds"]!.GetValue<double>().ShouldBe(60);
        alert.Details["baselineWindowSeconds"]!.GetValue<double>().ShouldBe(600);
        alert.Details["runId"]!.GetValue<string>().ShouldBe(bot.LastRunId);
    }

    [Fact]
    public void OnAdmitted_SpikeWindowSlides_SpreadOutRunsNeverSpike()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();

        // Four runs a minute, forever: never five inside one (At − 1 min, At].
        for (int i = 0; i < 40; i++)
        {
            detectors.OnAdmitted(bot.Admitted(Sec(i * 15), code: $"n{i}")).ShouldBeEmpty();
        }
    }

    [Fact]
    public void OnAdmitted_BurstOverLowBaseline_FiresAtMinRuns()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();
        for (int i = 0; i < 20; i++)
        {
            detectors.OnAdmitted(bot.Admitted(Min(i), code: $"steady{i}")).ShouldBeEmpty();
        }

        // Baseline: the 10 runs in (9:05, 19:05], 1 per minute; factor 4 and minRuns 5 need 5 in (19:05, 20:05].
        for (int i = 1; i <= 4; i++)
        {
            detectors.OnAdmitted(bot.Admitted(Min(20) + Sec(i), code: $"burst{i}")).ShouldBeEmpty();
        }

        Alert alert = detectors.OnAdmitted(bot.Admitted(Min(20) + Sec(5), code: "burst5")).ShouldHaveSingleItem();
        alert.Detector.ShouldBe(Spike);
        alert.Details["current"]!.GetValue<int>().ShouldBe(5);
        alert.Details["baselinePerWindow"]!.GetValue<double>().ShouldBe(1);
        alert.Summary.ShouldBe("agent ci-bot had 5 runs admitted in 1 min, against its usual 1 per 1 min");
    }

    [Fact]
    public void OnAdmitted_BurstFromYoungAgent_BaselineIsThePaceSinceFirstSeen()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();
        detectors.OnAdmitted(bot.Admitted(Min(0), code: "first"));
        detectors.OnAdmitted(bot.Admitted(Min(1), code: "second"));
        detectors.OnAdmitted(bot.Admitted(Min(2), code: "third"));

        // Seen since 0:00: at 3:06, 3 runs in the 2:06 before the window, 1.43 a minute, so 6 runs are needed. Averaged
        // over the whole 10 min baseline it would be 0.3, and the 5th burst run would already fire.
        for (int i = 1; i <= 5; i++)
        {
            detectors.OnAdmitted(bot.Admitted(Min(3) + Sec(i), code: $"burst{i}")).ShouldBeEmpty();
        }

        Alert alert = detectors.OnAdmitted(bot.Admitted(Min(3) + Sec(6), code: "burst6")).ShouldHaveSingleItem();
        alert.Details["current"]!.GetValue<int>().ShouldBe(6);
        alert.Details["baselinePerWindow"]!.GetValue<double>().ShouldBe(1.429);
    }

    [Fact]
    public void OnAdmitted_SpikeInCooldown_SilentThenCountsOnlyRunsAfterTheAlert()
    {
        var options = SomeAlertOptions.Small();
        options.Cooldown = Sec(30);
        var detectors = new RunDetectors(options);
        var bot = new AgentRuns();
        for (int i = 0; i < 5; i++)
        {
            detectors.OnAdmitted(bot.Admitted(Sec(i), code: $"a{i}"));
        }

        // Inside the cooldown: silent.
        for (int i = 5; i < 10; i++)
        {
            detectors.OnAdmitted(bot.Admitted(Sec(i), code: $"a{i}")).Of(Spike).ShouldBeEmpty();
        }

        // After it, the window holds 10 runs, but only the 5 since the alert plus this one count: 6 >= 5 fires.
        detectors.OnAdmitted(bot.Admitted(Sec(40), code: "a40")).Of(Spike).ShouldHaveSingleItem().Details["current"]!.GetValue<int>().ShouldBe(6);
    }

    [Fact]
    public void OnAdmitted_SpikeAcrossAgents_CountsEachAgentAlone()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        for (int i = 0; i < 8; i++)
        {
            var runs = new AgentRuns($"agt_{i}", $"bot{i}");
            detectors.OnAdmitted(runs.Admitted(Sec(i))).ShouldBeEmpty();
        }
    }

    // ---- failure_streak ----

    [Fact]
    public void OnCompleted_FailuresAtThreshold_FiresWithTheStatuses()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();

        detectors.OnCompleted(bot.Completed(Sec(0), "timeout")).ShouldBeEmpty();
        detectors.OnCompleted(bot.Completed(Sec(1), "runtime_error")).ShouldBeEmpty();
        Alert alert = detectors.OnCompleted(bot.Completed(Sec(2), "memory_limit")).ShouldHaveSingleItem();

        alert.Detector.ShouldBe(Streak);
        alert.Summary.ShouldBe("agent ci-bot had 3 runs in a row end other than ok (the last: memory_limit)");
        alert.Details["streak"]!.GetValue<int>().ShouldBe(3);
        alert.Details["threshold"]!.GetValue<int>().ShouldBe(3);
        alert.Details["statuses"]!.AsArray().Select(s => s!.GetValue<string>()).ShouldBe(["timeout", "runtime_error", "memory_limit"]);
        alert.Details["runId"]!.GetValue<string>().ShouldBe(bot.LastRunId);
    }

    [Fact]
    public void OnCompleted_OkInBetween_ResetsTheStreak()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();
        string[] statuses = ["compile_error", "timeout", "ok", "rejected", "sandbox_error", "ok", "cpu_limit", "output_limit"];

        for (int i = 0; i < statuses.Length; i++)
        {
            detectors.OnCompleted(bot.Completed(Sec(i), statuses[i])).ShouldBeEmpty();
        }
    }

    [Fact]
    public void OnCompleted_Cancelled_NeitherCountsNorBreaksTheStreak()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();

        detectors.OnCompleted(bot.Completed(Sec(0), "timeout")).ShouldBeEmpty();
        for (int i = 1; i <= 5; i++)
        {
            detectors.OnCompleted(bot.Completed(Sec(i), "cancelled")).ShouldBeEmpty();
        }

        detectors.OnCompleted(bot.Completed(Sec(6), "runtime_error")).ShouldBeEmpty();
        detectors.OnCompleted(bot.Completed(Sec(7), "cancelled")).ShouldBeEmpty();
        Alert alert = detectors.OnCompleted(bot.Completed(Sec(8), "timeout")).ShouldHaveSingleItem();
        alert.Details["statuses"]!.AsArray().Select(s => s!.GetValue<string>()).ShouldBe(["timeout", "runtime_error", "timeout"]);
    }

    [Theory]
    [InlineData("sandbox_error")]
    [InlineData("interrupted")]
    public void OnCompleted_OurOwnFaults_NeitherCountNorBreakTheStreak(string ours)
    {
        // An outage (Docker down, a crash of the service) ends many runs at once: it is not the agents' failure,
        // and with HoldAgent it would put every one of them on hold.
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();

        detectors.OnCompleted(bot.Completed(Sec(0), "timeout")).ShouldBeEmpty();
        for (int i = 1; i <= 10; i++)
        {
            detectors.OnCompleted(bot.Completed(Sec(i), ours)).ShouldBeEmpty();
        }

        detectors.OnCompleted(bot.Completed(Sec(11), "runtime_error")).ShouldBeEmpty();
        Alert alert = detectors.OnCompleted(bot.Completed(Sec(12), "timeout")).ShouldHaveSingleItem();
        alert.Details["statuses"]!.AsArray().Select(s => s!.GetValue<string>()).ShouldBe(["timeout", "runtime_error", "timeout"]);
    }

    [Theory]
    [InlineData("sandbox_error")]
    [InlineData("interrupted")]
    public void OnCompleted_OurOwnFaults_TheSameCodeRetriedIsNoLoop(string ours)
    {
        // A client retrying the same code through an outage: each try is admitted, then failed by us.
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();
        for (int i = 0; i < 6; i++)
        {
            detectors.OnAdmitted(bot.Admitted(Sec(2 * i))).Of(Loop).ShouldBeEmpty();
            detectors.OnCompleted(bot.Completed(Sec((2 * i) + 1), ours)).ShouldBeEmpty();
        }

        // The detector still works: three tries of its own that were not failed by us are a loop.
        detectors.OnAdmitted(bot.Admitted(Sec(20))).Of(Loop).ShouldBeEmpty();
        detectors.OnAdmitted(bot.Admitted(Sec(21))).Of(Loop).ShouldBeEmpty();
        detectors.OnAdmitted(bot.Admitted(Sec(22))).Of(Loop).ShouldHaveSingleItem().Details["count"]!.GetValue<int>().ShouldBe(3);
    }

    [Fact]
    public void OnCompleted_StreakInCooldown_SilentThenFiresWhenTheStreakHoldsAnew()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();
        for (int i = 0; i < 3; i++)
        {
            detectors.OnCompleted(bot.Completed(Min(i), "runtime_error"));
        }

        // Fired at 2 min; three more failures inside the cooldown are silent.
        for (int i = 3; i < 6; i++)
        {
            detectors.OnCompleted(bot.Completed(Min(i), "runtime_error")).ShouldBeEmpty();
        }

        // The streak went on (4 since the alert): the first failure after the cooldown reports it.
        detectors.OnCompleted(bot.Completed(Min(7), "timeout")).ShouldHaveSingleItem().Details["streak"]!.GetValue<int>().ShouldBe(4);
    }

    [Fact]
    public void OnCompleted_StreakAfterCooldown_ReaccumulatesFromZero()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();
        for (int i = 0; i < 3; i++)
        {
            detectors.OnCompleted(bot.Completed(Min(i), "runtime_error"));
        }

        detectors.OnCompleted(bot.Completed(Min(10), "runtime_error")).ShouldBeEmpty();
        detectors.OnCompleted(bot.Completed(Min(11), "runtime_error")).ShouldBeEmpty();
        detectors.OnCompleted(bot.Completed(Min(12), "runtime_error")).ShouldHaveSingleItem();
    }

    [Fact]
    public void OnCompleted_StreakAcrossAgents_CountsEachAgentAlone()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var one = new AgentRuns("agt_one", "one");
        var two = new AgentRuns("agt_two", "two");

        detectors.OnCompleted(one.Completed(Sec(0), "timeout")).ShouldBeEmpty();
        detectors.OnCompleted(two.Completed(Sec(1), "timeout")).ShouldBeEmpty();
        detectors.OnCompleted(one.Completed(Sec(2), "timeout")).ShouldBeEmpty();
        detectors.OnCompleted(two.Completed(Sec(3), "ok")).ShouldBeEmpty();
        detectors.OnCompleted(one.Completed(Sec(4), "timeout")).ShouldHaveSingleItem().AgentId.ShouldBe("agt_one");
        detectors.OnCompleted(two.Completed(Sec(5), "timeout")).ShouldBeEmpty();
    }

    // ---- misuse and memory ----

    [Fact]
    public void Ctor_InvalidOptions_ThrowsNamingEveryField()
    {
        var options = SomeAlertOptions.Small();
        options.LoopThreshold = 1;
        options.SpikeFactor = 0.5;

        var ex = Should.Throw<ArgumentException>(() => new RunDetectors(options));
        ex.Message.ShouldContain("Sandbox:Guard:Alerts:LoopThreshold");
        ex.Message.ShouldContain("Sandbox:Guard:Alerts:SpikeFactor");
    }

    [Fact]
    public void OnAdmitted_WithStatus_Throws()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();

        Should.Throw<ArgumentException>(() => detectors.OnAdmitted(bot.Completed(Sec(0), "ok")));
        Should.Throw<ArgumentException>(() => detectors.OnCompleted(bot.Admitted(Sec(0))));
    }

    [Fact]
    public void OnAdmitted_IdleAgents_AreForgottenUnlessMidStreak()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        for (int i = 0; i < 100; i++)
        {
            detectors.OnAdmitted(new AgentRuns($"agt_{i}", $"bot{i}").Admitted(Sec(i)));
        }

        var failing = new AgentRuns("agt_failing", "failing");
        detectors.OnCompleted(failing.Completed(Sec(0), "timeout"));
        var busy = new AgentRuns("agt_busy", "busy");
        for (int i = 0; i < 5000; i++)
        {
            detectors.OnAdmitted(busy.Admitted(TimeSpan.FromDays(1) + Sec(i), code: $"c{i}"));
        }

        detectors.TrackedAgents.ShouldBe(2);
        // The failing agent's streak survived the sweep: two more failures complete it.
        detectors.OnCompleted(failing.Completed(TimeSpan.FromDays(2), "timeout")).ShouldBeEmpty();
        detectors.OnCompleted(failing.Completed(TimeSpan.FromDays(2), "timeout")).ShouldHaveSingleItem().Details["streak"]!.GetValue<int>().ShouldBe(3);
    }

    [Fact]
    public void OnAdmitted_MoreThanTheHistoryCap_StaysQuietAtASteadyPace()
    {
        var options = SomeAlertOptions.Small();
        options.SpikeMinRuns = 1000;
        options.Cooldown = TimeSpan.FromSeconds(70);
        var detectors = new RunDetectors(options);
        var flood = new AgentRuns("agt_flood", "flood");
        var alerts = new List<Alert>();

        // 100 runs a second: the 11 min horizon would hold 66 000, the cap keeps 10 000 (100 s). The baseline is
        // averaged over the part of its span still covered, so the steady pace is not mistaken for a spike.
        for (int i = 0; i < 30_000; i++)
        {
            alerts.AddRange(detectors.OnAdmitted(flood.Admitted(TimeSpan.FromMilliseconds(i * 10), code: $"c{i}")));
        }

        alerts.Of(Spike).Select(a => a.At).ShouldBe([AgentRuns.Start + TimeSpan.FromMilliseconds(999 * 10)]);
        alerts.Of(Loop).ShouldBeEmpty();
    }

    [Fact]
    public async Task OnAdmittedAndOnCompleted_ManyAgentsAtOnce_EachAgentCountedExactly()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        Task<Alert[]>[] agents = Enumerable.Range(0, 16).Select(n => Task.Run(() =>
        {
            var runs = new AgentRuns($"agt_{n}", $"bot{n}");
            var alerts = new List<Alert>();
            for (int i = 0; i < 3000; i++)
            {
                alerts.AddRange(detectors.OnAdmitted(runs.Admitted(Min(i), code: $"c{i % 100}")));
                alerts.AddRange(detectors.OnCompleted(runs.Completed(Min(i) + Sec(1), i < 3 ? "timeout" : "ok")));
            }

            return alerts.ToArray();
        })).ToArray();

        foreach (Alert[] alerts in await Task.WhenAll(agents))
        {
            alerts.ShouldHaveSingleItem().Detector.ShouldBe(Streak);
        }
    }

    [Fact]
    public void Alert_Details_SerializeAsJson()
    {
        var detectors = new RunDetectors(SomeAlertOptions.Small());
        var bot = new AgentRuns();
        detectors.OnCompleted(bot.Completed(Sec(0), "timeout"));
        detectors.OnCompleted(bot.Completed(Sec(1), "timeout"));
        Alert alert = detectors.OnCompleted(bot.Completed(Sec(2), "timeout")).Single();

        JsonNode.Parse(alert.Details.ToJsonString())!["statuses"]!.AsArray().Count.ShouldBe(3);
    }
}
