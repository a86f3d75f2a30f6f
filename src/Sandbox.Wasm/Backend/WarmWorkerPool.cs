using Microsoft.Extensions.Logging;
using Sandbox.Wasm.Worker;

namespace Sandbox.Wasm.Backend;

/// <summary>
/// Workers started ahead of time for one profile and its limits (the key): each has loaded the guest module and run it
/// up to its first call that could see a run (<see cref="Wasi.WasiOptions.Gate"/>), and waits, parked, for exactly one
/// run. A claimed worker is never returned: one worker process serves one run, so every run still gets a fresh instance
/// in a fresh process and cgroup. The pool refills a key in the background after each of its runs, up to
/// <see cref="WasmWorkerOptions.WarmWorkers"/> per key and <see cref="WasmWorkerOptions.MaxWarmWorkers"/> in all.
/// </summary>
internal sealed partial class WarmWorkerPool(WasmWorkerOptions options, TimeProvider time, ILogger logger) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<WarmWorker>> _byKey = new(StringComparer.Ordinal);
    private int _count;
    private bool _disposed;

    /// <summary>Warm workers held now (parked or still pre-initialising), for tests and metrics.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Warm workers parked now, ready to be claimed.</summary>
    public int ParkedCount
    {
        get
        {
            lock (_lock)
            {
                return _byKey.Values.Sum(workers => workers.Count(w => w.Ready.IsCompletedSuccessfully && w.Ready.Result is not null));
            }
        }
    }

    /// <summary>Takes a worker for <paramref name="key"/>: a parked one first, else one still pre-initialising; null when there is none.</summary>
    public WarmWorker? TryClaim(string key)
    {
        lock (_lock)
        {
            if (!_byKey.TryGetValue(key, out var workers) || workers.Count == 0)
            {
                return null;
            }

            var index = workers.FindIndex(w => w.Ready.IsCompletedSuccessfully && w.Ready.Result is not null);
            var claimed = workers[index < 0 ? 0 : index];
            workers.Remove(claimed);
            _count--;
            return claimed;
        }
    }

    /// <summary>Starts workers for <paramref name="key"/> in the background until it holds its share; <paramref name="prepare"/> starts one and returns what to send it.</summary>
    public void Refill(string key, Func<(WorkerProcess Worker, byte[] Template, byte[] Module)> prepare)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (!_byKey.TryGetValue(key, out var workers))
            {
                workers = [];
                _byKey[key] = workers;
            }

            while (workers.Count < options.WarmWorkers && (_count < options.MaxWarmWorkers || EvictOtherThan(key)))
            {
                var warm = new WarmWorker(PrepareAsync(prepare));
                workers.Add(warm);
                _count++;
                _ = warm.Ready.ContinueWith(t => DropIfFailed(key, warm, t.Result), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Kills every warm worker (the service is stopping).</summary>
    public void Dispose()
    {
        List<WarmWorker> all;
        lock (_lock)
        {
            _disposed = true;
            all = [.. _byKey.Values.SelectMany(w => w)];
            _byKey.Clear();
            _count = 0;
        }

        foreach (var warm in all)
        {
            warm.Release();
        }
    }

    /// <summary>
    /// Makes room for the key in use by killing a parked worker of the key holding the most (a profile no longer run, or a
    /// module since rebuilt, would otherwise keep its workers for ever and starve the rest). Under the lock.
    /// </summary>
    private bool EvictOtherThan(string key)
    {
        var (victimKey, victims) = _byKey.Where(k => k.Key != key).OrderByDescending(k => k.Value.Count).FirstOrDefault();
        var victim = victims?.FirstOrDefault(w => w.Ready.IsCompletedSuccessfully);
        if (victim is null || victims!.Count <= _byKey[key].Count)
        {
            return false;
        }

        victims.Remove(victim);
        _count--;
        victim.Release();
        Log.Evicted(logger, victimKey.Split('\n')[0]);
        return true;
    }

    private async Task<WorkerProcess?> PrepareAsync(Func<(WorkerProcess Worker, byte[] Template, byte[] Module)> prepare)
    {
        // Off the caller's thread: starting the process and reading the module must not delay the run that asked for the refill.
        await Task.Yield();
        WorkerProcess? worker = null;
        try
        {
            (worker, var template, var module) = prepare();
            var input = worker.Process.StandardInput.BaseStream;
            await WorkerFrames.WriteAsync(input, FrameType.Prepare, template, CancellationToken.None).ConfigureAwait(false);
            await WorkerFrames.WriteAsync(input, FrameType.Module, module, CancellationToken.None).ConfigureAwait(false);
            await input.FlushAsync().ConfigureAwait(false);
            var parked = WorkerFrames.ReadAsync(worker.Process.StandardOutput.BaseStream, 0, CancellationToken.None).AsTask();
            try
            {
                // Pre-initialisation is bounded here: a guest that never parks is killed, and its worker dropped.
                if (await parked.WaitAsync(options.PrepareTimeout, time).ConfigureAwait(false) is { Type: FrameType.Parked })
                {
                    return worker;
                }
            }
            catch (TimeoutException)
            {
                Log.PrepareTimedOut(logger, options.PrepareTimeout.TotalSeconds);
            }
        }
#pragma warning disable CA1031 // A warm worker that fails to prepare is only a missed warm start: logged, dropped, and the run starts cold.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.PrepareFailed(logger, e.GetType().Name, e.Message);
        }

        worker?.Dispose();
        return null;
    }

    private void DropIfFailed(string key, WarmWorker warm, WorkerProcess? worker)
    {
        if (worker is not null)
        {
            return;
        }

        lock (_lock)
        {
            if (_byKey.TryGetValue(key, out var workers) && workers.Remove(warm))
            {
                _count--;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Warning, "A warm WebAssembly worker failed to prepare ({Kind}: {Problem}); runs of its profile start cold until it is replaced")]
        public static partial void PrepareFailed(ILogger logger, string kind, string problem);

        [LoggerMessage(22, LogLevel.Debug, "A warm WebAssembly worker of profile {Profile} was killed to make room for a profile in use")]
        public static partial void Evicted(ILogger logger, string profile);

        [LoggerMessage(21, LogLevel.Warning, "A warm WebAssembly worker did not park within {Seconds} s and was killed")]
        public static partial void PrepareTimedOut(ILogger logger, double seconds);
    }
}

/// <summary>One warm worker: <see cref="Ready"/> ends with the parked process, or null when it failed to prepare.</summary>
internal sealed class WarmWorker(Task<WorkerProcess?> ready)
{
    public Task<WorkerProcess?> Ready { get; } = ready;

    /// <summary>Kills the worker whenever it is ready (never claimed).</summary>
    public void Release() => _ = Ready.ContinueWith(t => t.Result?.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
