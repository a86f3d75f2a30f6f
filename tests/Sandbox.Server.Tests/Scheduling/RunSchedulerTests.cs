using System.Threading.Channels;
using Sandbox.Server.Scheduling;

namespace Sandbox.Server.Tests.Scheduling;

public sealed class RunSchedulerTests
{
    private sealed class Job(int number)
    {
        public int Number { get; } = number;

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [Fact]
    public async Task TryEnqueue_PastSlotsPlusQueue_IsRefusedAtOnce()
    {
        var scheduler = new RunScheduler<Job>(2, 3, async j => { j.Started.TrySetResult(); await j.Release.Task; });
        var jobs = Enumerable.Range(0, 7).Select(i => new Job(i)).ToList();

        var admitted = jobs.Select(scheduler.TryEnqueue).ToList();

        admitted.ShouldBe([true, true, true, true, true, false, false]);
        await Task.WhenAll(jobs[0].Started.Task, jobs[1].Started.Task).WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        scheduler.Running.ShouldBe(2);
        scheduler.QueueDepth.ShouldBe(3);
        foreach (var job in jobs)
        {
            job.Release.TrySetResult();
        }
    }

    [Fact]
    public async Task Freed_IsCalledOncePerJob_OnlyAfterItsSlotIsCountedFree()
    {
        // A node claims work for its free slots when told one freed: told too early, it would see none and claim nothing.
        var seen = Channel.CreateUnbounded<(int Running, int Queued)>();
        RunScheduler<Job>? scheduler = null;
        scheduler = new RunScheduler<Job>(1, 1, _ => Task.CompletedTask, () => seen.Writer.TryWrite((scheduler!.Running, scheduler.QueueDepth)));

        for (var i = 0; i < 2; i++)
        {
            scheduler.TryEnqueue(new Job(i)).ShouldBeTrue();
            (await seen.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken))
                .ShouldBe((0, 0));
        }

        seen.Reader.TryRead(out _).ShouldBeFalse("once per job");
    }

    [Fact]
    public async Task Jobs_StartInArrivalOrder_AndAFreedSlotAdmitsAgain()
    {
        var order = new List<int>();
        var scheduler = new RunScheduler<Job>(1, 2, async j => { lock (order) { order.Add(j.Number); } j.Started.TrySetResult(); await j.Release.Task; });
        var jobs = Enumerable.Range(0, 3).Select(i => new Job(i)).ToList();
        jobs.ForEach(j => scheduler.TryEnqueue(j).ShouldBeTrue());
        scheduler.TryEnqueue(new Job(99)).ShouldBeFalse();

        foreach (var job in jobs)
        {
            await job.Started.Task.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
            job.Release.TrySetResult();
        }

        order.ShouldBe([0, 1, 2]);
        await WaitUntil(() => scheduler.Running == 0 && scheduler.QueueDepth == 0);
        scheduler.TryEnqueue(new Job(3)).ShouldBeTrue();
    }

    [Fact]
    public async Task Close_ReturnsTheWaitingJobs_RefusesNewOnes_AndLetsRunningOnesFinish()
    {
        var scheduler = new RunScheduler<Job>(1, 5, async j => { j.Started.TrySetResult(); await j.Release.Task; });
        var jobs = Enumerable.Range(0, 4).Select(i => new Job(i)).ToList();
        jobs.ForEach(j => scheduler.TryEnqueue(j));
        await jobs[0].Started.Task.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

        var left = scheduler.Close();

        left.Select(j => j.Number).ShouldBe([1, 2, 3]);
        scheduler.TryEnqueue(new Job(9)).ShouldBeFalse();
        scheduler.Completion.IsCompleted.ShouldBeFalse();
        jobs[0].Release.TrySetResult();
        await scheduler.Completion.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        jobs.Skip(1).ShouldAllBe(j => !j.Started.Task.IsCompleted);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        condition().ShouldBeTrue();
    }
}
