using Sandbox.Guard.Alerts;

namespace Sandbox.Guard.Tests.Alerts;

public sealed class AdmissionHistoryTests
{
    private static readonly DateTimeOffset s_t0 = AgentRuns.Start;

    private static DateTimeOffset At(double seconds) => s_t0 + TimeSpan.FromSeconds(seconds);

    [Fact]
    public void Add_Straggler_IsRecordedAtTheNewestTime()
    {
        var history = new AdmissionHistory(capacity: 100);
        history.Add(At(10), "a");

        history.Add(At(5), "b").ShouldBe((1L, At(10)));
        history.CountBetween(At(9), At(10)).ShouldBe(2);
        history.FirstAt.ShouldBe(At(10));
    }

    [Fact]
    public void CountBetween_IsHalfOpen()
    {
        var history = new AdmissionHistory(capacity: 100);
        for (int i = 0; i < 10; i++)
        {
            history.Add(At(i), "a");
        }

        history.CountBetween(At(2), At(5)).ShouldBe(3);
        history.CountBetween(At(5), At(2)).ShouldBe(0);
        history.CountAfter(At(7), afterSequence: -1).ShouldBe(2);
        history.CountAfter(At(0), afterSequence: 7).ShouldBe(2);
    }

    [Fact]
    public void Forgive_TakesOneOutOfTheLoopCount_AndIsNotUncountedAgainWhenItLeavesTheWindow()
    {
        var history = new AdmissionHistory(capacity: 100);
        history.Add(At(0), "a");
        history.Add(At(1), "a");

        history.Forgive("A").ShouldBeTrue("hashes compare as the loop counts do, ignoring case");
        history.LoopCount("a", At(-1)).ShouldBe(1);
        history.Forgive("b").ShouldBeFalse();

        // Both slide out of the window: the forgiven one is not taken off a second time.
        history.LoopCount("a", At(1)).ShouldBe(0);
        history.Add(At(2), "a");
        history.LoopCount("a", At(1)).ShouldBe(1);
        history.CountBetween(At(-1), At(2)).ShouldBe(3, "a forgiven admission still counts as an admission (rate spike)");
    }

    [Fact]
    public void LoopCount_SlidesAndResets()
    {
        var history = new AdmissionHistory(capacity: 100);
        history.Add(At(0), "a");
        history.Add(At(1), "b");
        history.Add(At(2), "A");

        history.LoopCount("a", windowStart: At(-1)).ShouldBe(2);
        history.LoopCount("a", windowStart: At(0)).ShouldBe(1);
        history.LoopCount("b", windowStart: At(0)).ShouldBe(1);

        history.ResetLoop();
        history.LoopCount("a", windowStart: At(0)).ShouldBe(0);
        history.Add(At(3), "a");
        history.LoopCount("a", windowStart: At(0)).ShouldBe(1);
    }

    [Fact]
    public void Add_OverCapacity_DropsTheOldestAndRemembersWhen()
    {
        var history = new AdmissionHistory(capacity: 100);
        for (int i = 0; i < 1000; i++)
        {
            history.Add(At(i), i % 2 == 0 ? "even" : "odd");
        }

        history.Count.ShouldBe(100);
        history.EvictedThrough.ShouldBe(At(899));
        history.LoopCount("even", windowStart: At(0)).ShouldBe(50);
        history.CountBetween(At(0), At(1000)).ShouldBe(100);
    }

    [Fact]
    public void Prune_DropsUpToAndIncludingTheTime()
    {
        var history = new AdmissionHistory(capacity: 1000);
        for (int i = 0; i < 500; i++)
        {
            history.Add(At(i), "a");
        }

        history.Prune(At(399));
        history.Count.ShouldBe(100);
        history.LoopCount("a", windowStart: At(0)).ShouldBe(100);
        history.EvictedThrough.ShouldBeNull();
    }
}
