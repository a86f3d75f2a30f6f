using Sandbox.Docker.Execution;

namespace Sandbox.Docker.Tests.Execution;

public sealed class BackgroundRemovalsTests
{
    [Fact]
    public async Task Start_UnderTheLimit_ReturnsAtOnceAndWhenIdleWaitsForTheRemoval()
    {
        var removals = new BackgroundRemovals(limit: 2);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var removed = false;

        var started = removals.Start(async () => { await gate.Task; removed = true; });

        started.IsCompleted.ShouldBeTrue("the caller does not wait for a removal under the limit");
        removals.Count.ShouldBe(1);
        var idle = removals.WhenIdleAsync();
        await Task.Delay(50, TestContext.Current.CancellationToken);
        idle.IsCompleted.ShouldBeFalse("a removal under way keeps shutdown waiting");
        gate.SetResult();
        await idle.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        removed.ShouldBeTrue();
        await WaitForCountAsync(removals, 0);
    }

    [Fact]
    public async Task Start_AtTheLimit_HandsTheRemovalToTheCaller()
    {
        var removals = new BackgroundRemovals(limit: 1);
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        removals.Start(() => first.Task).IsCompleted.ShouldBeTrue();
        var waited = removals.Start(() => second.Task);

        waited.IsCompleted.ShouldBeFalse("past the limit the run's result waits for its own removal");
        removals.Count.ShouldBe(1, "a removal the caller waits on is not counted as background work");
        second.SetResult();
        await waited.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        first.SetResult();
        await removals.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task WhenIdleAsync_ARemovalThatFails_EndsWithoutFailingTheWait()
    {
        var removals = new BackgroundRemovals(limit: 4);
        _ = removals.Start(() => Task.FromException(new InvalidOperationException("daemon said no")));

        await removals.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        await WaitForCountAsync(removals, 0);
    }

    private static async Task WaitForCountAsync(BackgroundRemovals removals, int count)
    {
        for (var i = 0; i < 100 && removals.Count != count; i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        removals.Count.ShouldBe(count);
    }
}
