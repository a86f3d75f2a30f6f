using System.Collections.Concurrent;
using System.Threading.Channels;
using Sandbox.Core.Execution;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;

namespace Sandbox.Server.Tests.Runs;

/// <summary>
/// A backend whose runs end when the test says: each started run is announced on <see cref="Started"/> and waits for
/// <see cref="Finish"/> (or its cancellation, which it honours as a real backend does, by throwing).
/// </summary>
internal sealed class FakeBackend : IExecutionBackend
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<RunResult>> _running = new(StringComparer.Ordinal);
    private int _executions;

    public string Name => BackendNames.Docker;

    /// <summary>Run ids, in the order the lifecycle started them.</summary>
    public Channel<string> Started { get; } = Channel.CreateUnbounded<string>();

    /// <summary>How many times a plan reached the backend: a run that ran twice shows here.</summary>
    public int Executions => Volatile.Read(ref _executions);

    public async Task<RunResult> ExecuteAsync(RunPlan plan, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _executions);
        var done = _running.GetOrAdd(plan.RunId, _ => new TaskCompletionSource<RunResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        await Started.Writer.WriteAsync(plan.RunId, cancellationToken);
        return await done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Ends a started run with exit 0, <paramref name="stdout"/> and <paramref name="cpuMs"/> of CPU.</summary>
    public void Finish(string runId, string stdout = "done\n", long cpuMs = 10) =>
        _running[runId].TrySetResult(new RunResult
        {
            RunId = runId,
            Status = RunStatus.Ok,
            ExitCode = 0,
            Stdout = stdout,
            StdoutBytes = System.Text.Encoding.UTF8.GetBytes(stdout),
            Usage = new ResourceUsage { CpuMs = cpuMs, WallMs = cpuMs },
        });

    /// <summary>The next run to start, within a few seconds (the scheduler runs on real threads).</summary>
    public async Task<string> NextStartedAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        return await Started.Reader.ReadAsync(timeout.Token);
    }
}
