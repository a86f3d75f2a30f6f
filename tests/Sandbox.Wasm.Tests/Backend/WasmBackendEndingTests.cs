using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Execution;
using Sandbox.Core.Runs;
using Sandbox.Wasm.Backend;
using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Backend;

/// <summary>
/// A run is answered at its worker's result, and the worker's ending (its exit, its pipes, its cgroup's removal) follows
/// in the background, owned by the backend: the answer does not wait for it, and once it completes (or the backend is
/// disposed) nothing of the worker is left, neither its process nor its cgroup.
/// </summary>
[Trait("Category", "Integration")]
public sealed class WasmBackendEndingTests
{
    private static readonly TimeSpan s_ending = TimeSpan.FromSeconds(10);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static RunPlan Hello(string runId) => SpinningRun.Plan(runId, wallTimeMs: 10_000, cpuTimeMs: 2_000, module: "Backend/hello");

    [Fact]
    public async Task Run_IsAnsweredBeforeItsWorkersEnding_AndNothingOfTheWorkerIsLeftOnceTheEndingCompletes()
    {
        var log = new WorkerPids();
        using var backend = new WasmBackend(TimeProvider.System, log);
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        backend.HoldEndings = hold.Task;
        var runId = "run_ending_" + Guid.NewGuid().ToString("N")[..12];

        var result = await backend.ExecuteAsync(Hello(runId), Token).WaitAsync(s_ending, Token);

        // Answered while its ending is held: the answer did not wait for the worker's exit or its cgroup's removal.
        result.Status.ShouldBe(RunStatus.Ok, result.Message);
        result.Stdout.ShouldBe("hello\n");
        backend.EndingWorkerCount.ShouldBe(1);
        var cgroup = SpinningRun.Cgroups(runId).ShouldHaveSingleItem("the held ending has not removed the cgroup yet");
        var pid = log.Pids.ShouldHaveSingleItem();

        // Killed at its result all the same: its cgroup empties without the ending's help.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (File.ReadAllText(Path.Join(cgroup, "cgroup.procs")).Trim().Length > 0 && clock.Elapsed < s_ending)
        {
            await Task.Delay(10, Token);
        }

        File.ReadAllText(Path.Join(cgroup, "cgroup.procs")).Trim().ShouldBeEmpty("every process of the worker was SIGKILLed at its result");

        hold.SetResult();
        await backend.WhenWorkersEndedAsync().WaitAsync(s_ending, Token);

        backend.EndingWorkerCount.ShouldBe(0);
        SpinningRun.Cgroups(runId).ShouldBeEmpty("the ending removes the worker's cgroup");
        Directory.Exists($"/proc/{pid}").ShouldBeFalse($"the worker's process {pid} is gone (and reaped)");
    }

    [Fact]
    public async Task Dispose_WaitsForTheEndingsOfAnsweredRuns_NothingIsLeftBehind()
    {
        var log = new WorkerPids();
        var backend = new WasmBackend(TimeProvider.System, log);
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        backend.HoldEndings = hold.Task;
        var runIds = Enumerable.Range(0, 3).Select(i => $"run_ending_{i}_" + Guid.NewGuid().ToString("N")[..12]).ToArray();
        foreach (var runId in runIds)
        {
            (await backend.ExecuteAsync(Hello(runId), Token)).Status.ShouldBe(RunStatus.Ok);
        }

        backend.EndingWorkerCount.ShouldBe(3);
        runIds.SelectMany(SpinningRun.Cgroups).Count().ShouldBe(3);

        // The endings are released only after Dispose has begun: Dispose must wait for them, not merely start them.
        _ = Task.Delay(300, Token).ContinueWith(_ => hold.SetResult(), TaskScheduler.Default);
        backend.Dispose();

        backend.EndingWorkerCount.ShouldBe(0);
        runIds.SelectMany(SpinningRun.Cgroups).ShouldBeEmpty("shutdown leaves no worker cgroup behind");
        log.Pids.Count.ShouldBe(3);
        log.Pids.ShouldAllBe(pid => !Directory.Exists($"/proc/{pid}"));
    }

    /// <summary>The pids of the workers the backend started (its debug log says them), to look for them afterwards.</summary>
    private sealed class WorkerPids : ILogger<WasmBackend>
    {
        private readonly ConcurrentQueue<int> _pids = new();

        public IReadOnlyList<int> Pids => [.. _pids];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Name == "WorkerStarted" && state is IReadOnlyList<KeyValuePair<string, object?>> fields && fields.FirstOrDefault(f => f.Key == "Pid").Value is int pid)
            {
                _pids.Enqueue(pid);
            }
        }
    }
}
