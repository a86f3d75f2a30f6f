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
    private readonly Dictionary<string, KeySnapshot> _snapshots = new(StringComparer.Ordinal);
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

    /// <summary>The CPU weight of each parked worker's cgroup, as the kernel has it (tests).</summary>
    internal IReadOnlyList<string?> ParkedCpuWeights()
    {
        lock (_lock)
        {
            return [.. _byKey.Values.SelectMany(w => w).Where(w => w.Ready.IsCompletedSuccessfully && w.Ready.Result is not null).Select(w => w.Ready.Result!.Cgroup.CpuWeight())];
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

    /// <summary>Snapshots held now, one at most per key (for tests and metrics).</summary>
    public int SnapshotCount
    {
        get
        {
            lock (_lock)
            {
                return _snapshots.Count;
            }
        }
    }

    /// <summary>The snapshots held now (the arrays themselves: tests alter one to see it refused).</summary>
    internal IReadOnlyList<byte[]> SnapshotBytes
    {
        get
        {
            lock (_lock)
            {
                return [.. _snapshots.Values.Select(s => s.Bytes)];
            }
        }
    }

    /// <summary>Warm workers that restored a snapshot rather than running the guest's start-up.</summary>
    public long Restored => Interlocked.Read(ref _restored);

    private long _restored;

    /// <summary>Starts workers for <paramref name="key"/> in the background until it holds its share; <paramref name="prepare"/> starts one in the given snapshot mode and returns what to send it.</summary>
    public void Refill(string key, Func<WarmSnapshotMode, WarmPreparation> prepare)
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
                var warm = new WarmWorker();
                warm.Start(PrepareAsync(key, prepare, warm));
                workers.Add(warm);
                _count++;
                _ = warm.Ready.ContinueWith(t => DropIfFailed(key, warm, t.Result), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    /// <summary>
    /// For a run that found no warm worker: a worker restored from the key's snapshot now, for that run alone (never
    /// pooled); null when the key has no snapshot in its generation. Its task ends with the parked worker, or null.
    /// </summary>
    public Task<WorkerProcess?>? TryRestoreNow(string key, Func<WarmSnapshotMode, WarmPreparation> prepare)
    {
        lock (_lock)
        {
            if (_disposed || !_snapshots.ContainsKey(key))
            {
                return null;
            }
        }

        // Claimed from the start: a run is waiting for this one, so it runs at the full weight throughout.
        var warm = new WarmWorker();
        warm.Claim();
        warm.Start(PrepareAsync(key, prepare, warm, restoreOnly: true));
        return warm.Ready;
    }

    /// <summary>Kills every warm worker (the service is stopping).</summary>
    public void Dispose()
    {
        List<WarmWorker> all;
        lock (_lock)
        {
            _disposed = true;
            _snapshots.Clear();
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

    private async Task<WorkerProcess?> PrepareAsync(string key, Func<WarmSnapshotMode, WarmPreparation> prepare, WarmWorker warm, bool restoreOnly = false)
    {
        // Off the caller's thread: starting the process and reading the module must not delay the run that asked for the refill.
        await Task.Yield();
        WorkerProcess? worker = null;
        var (mode, snapshot) = ChooseSnapshot(key);
        if (restoreOnly && mode != WarmSnapshotMode.Restore)
        {
            // The generation ended meanwhile: the run starts cold, and the next refill takes a new snapshot.
            return null;
        }

        try
        {
            var prepared = prepare(mode);
            worker = prepared.Worker;
            warm.Started(worker.Cgroup);
            var input = worker.Process.StandardInput.BaseStream;
            await WorkerFrames.WriteAsync(input, FrameType.Prepare, prepared.Template, CancellationToken.None).ConfigureAwait(false);
            await WorkerFrames.WriteAsync(input, FrameType.Module, prepared.Module, CancellationToken.None).ConfigureAwait(false);
            if (snapshot is not null)
            {
                await WorkerFrames.WriteAsync(input, FrameType.Snapshot, snapshot, CancellationToken.None).ConfigureAwait(false);
            }

            await input.FlushAsync().ConfigureAwait(false);
            try
            {
                // Pre-initialisation is bounded here: a guest that never parks is killed, and its worker dropped.
                if (await UntilParkedAsync(key, worker, mode, prepared.MaxSnapshotBytes).WaitAsync(options.PrepareTimeout, time).ConfigureAwait(false))
                {
                    // Parked: what it still does (translating ahead) yields to claimed runs until its own claim.
                    warm.Parked();
                    if (mode == WarmSnapshotMode.Restore)
                    {
                        Interlocked.Increment(ref _restored);
                    }

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

        if (snapshot is not null)
        {
            // Fail closed: a snapshot a worker refused (or could not park from) is dropped; the next refill takes a new one.
            DropSnapshot(key, snapshot);
        }

        worker?.Dispose();
        return null;
    }

    /// <summary>
    /// Reads the worker's frames until it parks: true then. A worker told to take a snapshot may send one
    /// <see cref="FrameType.Captured"/> first; it comes before the worker has seen any run, so it holds only the
    /// profile's own start-up. Anything else ends the preparation.
    /// </summary>
    private async Task<bool> UntilParkedAsync(string key, WorkerProcess worker, WarmSnapshotMode mode, int maxSnapshotBytes)
    {
        var output = worker.Process.StandardOutput.BaseStream;
        var captured = false;
        while (true)
        {
            var frame = await WorkerFrames.ReadAsync(output, mode == WarmSnapshotMode.Take && !captured ? maxSnapshotBytes : 0, CancellationToken.None).ConfigureAwait(false);
            switch (frame)
            {
                case { Type: FrameType.Parked }:
                    return true;
                case { Type: FrameType.Captured } when mode == WarmSnapshotMode.Take && !captured:
                    captured = true;
                    StoreSnapshot(key, frame.Value.Payload);
                    break;
                default:
                    return false;
            }
        }
    }

    /// <summary>Restore the key's snapshot while its generation lasts; otherwise take a new one (or none when snapshots are off).</summary>
    private (WarmSnapshotMode Mode, byte[]? Snapshot) ChooseSnapshot(string key)
    {
        if (!options.WarmSnapshots)
        {
            return (WarmSnapshotMode.None, null);
        }

        lock (_lock)
        {
            if (_snapshots.TryGetValue(key, out var held))
            {
                // A generation is shared by a bounded number of runs and time (the guest's hash secret is in it, see the README).
                if (held.Uses < options.SnapshotMaxRuns && time.GetElapsedTime(held.TakenAt) < options.SnapshotMaxAge)
                {
                    held.Uses++;
                    return (WarmSnapshotMode.Restore, held.Bytes);
                }

                _snapshots.Remove(key);
            }

            return (WarmSnapshotMode.Take, null);
        }
    }

    private void StoreSnapshot(string key, byte[] bytes)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (!_snapshots.ContainsKey(key) && _snapshots.Count >= options.MaxWarmWorkers)
            {
                // Bounded like the workers: the oldest key's snapshot makes room.
                _snapshots.Remove(_snapshots.MinBy(k => k.Value.TakenAt).Key);
            }

            _snapshots[key] = new KeySnapshot(bytes, time.GetTimestamp());
        }
    }

    private void DropSnapshot(string key, byte[] bytes)
    {
        lock (_lock)
        {
            if (_snapshots.TryGetValue(key, out var held) && ReferenceEquals(held.Bytes, bytes))
            {
                _snapshots.Remove(key);
            }
        }
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

/// <summary>What a warm worker is started with: the process, its template and module, and how large a snapshot it may send back.</summary>
internal sealed record WarmPreparation(WorkerProcess Worker, byte[] Template, byte[] Module, int MaxSnapshotBytes);

/// <summary>A key's snapshot and its generation: when it was taken and how many workers restored it.</summary>
internal sealed class KeySnapshot(byte[] bytes, long takenAt)
{
    public byte[] Bytes { get; } = bytes;

    public long TakenAt { get; } = takenAt;

    public int Uses { get; set; }
}

/// <summary>
/// One warm worker: <see cref="Ready"/> ends with the parked process, or null when it failed to prepare. It prepares at
/// the full CPU weight (the next claim needs it ready: at the lowest weight, a sibling's run starved it, measured), and
/// parked it has the lowest weight (its translating ahead is optional) until a run claims it. A worker restored for a
/// run that is already waiting is claimed before it parks, and never gets the lowest weight. Weight only, never the quota.
/// </summary>
internal sealed class WarmWorker
{
    private readonly Lock _lock = new();
    private WorkerCgroup? _cgroup;
    private bool _claimed;

    public Task<WorkerProcess?> Ready { get; private set; } = Task.FromResult<WorkerProcess?>(null);

    /// <summary>Sets the preparation it ends with (once, before anyone can claim it).</summary>
    public void Start(Task<WorkerProcess?> ready) => Ready = ready;

    /// <summary>Its process has started in <paramref name="cgroup"/> (at the full weight).</summary>
    public void Started(WorkerCgroup cgroup)
    {
        lock (_lock)
        {
            _cgroup = cgroup;
        }
    }

    /// <summary>It has parked: the lowest weight, unless a run has claimed it already.</summary>
    public void Parked()
    {
        lock (_lock)
        {
            if (!_claimed)
            {
                _cgroup?.SetBackground(true);
            }
        }
    }

    /// <summary>A run has taken it: the full weight from now on.</summary>
    public void Claim()
    {
        lock (_lock)
        {
            _claimed = true;
            _cgroup?.SetBackground(false);
        }
    }

    /// <summary>Kills the worker whenever it is ready (never claimed).</summary>
    public void Release() => Release(Ready);

    /// <summary>Kills the worker <paramref name="ready"/> ends with, whenever it is ready.</summary>
    public static void Release(Task<WorkerProcess?> ready) =>
        _ = ready.ContinueWith(t => t.Result?.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
