using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Errors;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Execution;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.Pooling;

/// <summary>
/// Containers made ahead of time with exactly a run's hardened spec (<see cref="ContainerSpecBuilder"/>), started, and
/// waiting for their program on stdin (<c>sandbox-entry</c> blocks reading the file header, the one way files reach a
/// container). A run whose spec equals a pool's (<see cref="PoolKey"/>) claims one; each serves exactly one run and is
/// then removed, so every run still gets a fresh sandbox. Claimed containers are replaced in the background within a
/// budget of count and memory; with none idle, the run starts cold as before.
/// </summary>
/// <remarks>
/// An idle container holds nothing of any run, and its attach connection is ours: if this process dies, stdin closes,
/// <c>sandbox-entry</c> exits, and the reaper removes exited unclaimed pool containers at its next sweep (start-up included).
/// </remarks>
public sealed partial class WarmPool : IAsyncDisposable
{
    private readonly IDockerClient _docker;
    private readonly CgroupMeter _meter;
    private readonly WarmPoolOptions _options;
    private readonly DockerBackendOptions _backend;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private Task _refill = Task.CompletedTask;
    private long _hits;
    private long _misses;
    private int _disposed;

    public WarmPool(IDockerClient docker, CgroupMeter meter, WarmPoolOptions options, DockerBackendOptions backend, TimeProvider time, ILogger logger)
    {
        _docker = docker;
        _meter = meter;
        _options = options;
        _backend = backend;
        _time = time;
        _logger = logger;
    }

    /// <summary>This process's mark on its pool containers (<see cref="SandboxLabels.Pool"/>).</summary>
    public static string Instance { get; } = "p" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));

    /// <summary>Appended to a compiled profile's pool name for the pool of its compile step (<c>c/compile</c>).</summary>
    public const string CompileSuffix = "/compile";

    /// <summary>Runs that claimed a warm container.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Run steps that started cold: no warm container of their spec was idle.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Called with how long each pool container took to make (create, attach, start), for the metrics.</summary>
    public Action<TimeSpan>? Refilled { get; set; }

    /// <summary>Called with each claimed container's id (tests: no container serves two runs).</summary>
    internal Action<string>? Claimed { get; set; }

    /// <summary>Each pool: its name (<c>python</c>, <c>python@runsc</c>), runtime, target size, idle containers and containers being made now.</summary>
    public IReadOnlyList<WarmPoolSlotStats> Stats() =>
        [.. _slots.Values.OrderBy(s => s.Name, StringComparer.Ordinal).Select(s => new WarmPoolSlotStats(s.Name, s.Template.Runtime, s.Size, s.Idle.Count, Volatile.Read(ref s.Making)))];

    /// <summary>
    /// Resolves an image reference (a tag) to the image id the daemon has for it now, or null; with it the pool follows a
    /// rebuilt image (<see cref="WarmPoolOptions.RepinInterval"/>).
    /// </summary>
    internal Func<string, CancellationToken, Task<string?>>? ResolveImage { get; set; }

    /// <summary>
    /// Keeps <paramref name="size"/> containers of <paramref name="template"/>'s spec warm (its run id, deadlines and cgroup
    /// are replaced per container). <paramref name="imageReference"/> is the tag its pinned image came from, if any.
    /// </summary>
    internal void Register(string name, ContainerStep template, int size, string? imageReference = null)
    {
        var key = PoolKey.Of(template);
        if (_slots.TryAdd(key, new Slot(name, key, template, size, imageReference)))
        {
            Log.Registered(_logger, name, size, template.Runtime);
        }

        _wake.Release();
    }

    /// <summary>Starts the background refill.</summary>
    public void Start()
    {
        if (_options.MaxContainers == 0)
        {
            return;
        }

        _refill = Task.WhenAll(Enumerable.Range(0, _options.RefillConcurrency).Select(_ => Task.Run(() => RefillLoopAsync(_stopping.Token))));
    }

    /// <summary>Whether a warm container of <paramref name="step"/>'s spec is idle now (for the dry run).</summary>
    internal bool HasWarm(ContainerStep step) => _slots.TryGetValue(PoolKey.Of(step), out var slot) && !slot.Idle.IsEmpty;

    /// <summary>
    /// Takes an idle container of <paramref name="step"/>'s exact spec, alive as the kernel sees it, or null: the run then
    /// starts cold. A taken container is the caller's to run once and remove.
    /// </summary>
    internal WarmContainer? TryClaim(ContainerStep step)
    {
        if (Volatile.Read(ref _disposed) == 0 && _slots.TryGetValue(PoolKey.Of(step), out var slot))
        {
            while (slot.Idle.TryDequeue(out var warm))
            {
                // The kernel's word that its entry is still waiting: a container killed from outside must not answer for a run.
                if (_meter.IsPopulated(warm.CgroupParent) == true)
                {
                    // With another container still idle or already being made, its replacement waits for this run's end
                    // (ClaimEnded), so making it (dockerd, the runtime and the prestarted interpreter: tens of ms of CPU)
                    // does not take the CPU from the run on a small host; the one being made keeps the pool from running
                    // dry meanwhile. The last one, with none on its way, is replaced at once, and the deferred ones with it.
                    bool deferred;
                    lock (_budget)
                    {
                        deferred = !slot.Idle.IsEmpty || slot.Making > 0;
                        slot.Deferred = deferred ? slot.Deferred + 1 : 0;
                    }

                    if (!deferred)
                    {
                        _wake.Release();
                    }

                    // Hits and misses count runs (their run step); a compile step's claim shows in its pool's idle count.
                    if (step.StepName == "run")
                    {
                        Interlocked.Increment(ref _hits);
                    }

                    Claimed?.Invoke(warm.Id);
                    return warm;
                }

                Log.Discarded(_logger, warm.Id[..12]);
                _wake.Release();
                _ = RemoveAsync(warm);
            }
        }

        if (step.StepName == "run")
        {
            Interlocked.Increment(ref _misses);
        }

        return null;
    }

    /// <summary>
    /// The run that claimed <paramref name="warm"/> has ended: a replacement deferred at its claim may be made now. Called
    /// once per claim; a pool's idle check (every few seconds) makes up for a claim whose end is never reported.
    /// </summary>
    internal void ClaimEnded(WarmContainer warm)
    {
        if (_slots.TryGetValue(warm.PoolKey, out var slot))
        {
            lock (_budget)
            {
                slot.Deferred = Math.Max(0, slot.Deferred - 1);
            }
        }

        _wake.Release();
    }

    /// <summary>The spec template of the pool registered as <paramref name="name"/> (tests claim with it).</summary>
    internal ContainerStep? TemplateOf(string name) => _slots.Values.FirstOrDefault(s => s.Name == name)?.Template;

    /// <summary>The idle containers' ids (tests).</summary>
    internal IReadOnlyList<string> IdleIds() => [.. _slots.Values.SelectMany(s => s.Idle).Select(w => w.Id)];

    /// <summary>
    /// Drops the pool as a crash of the service would (tests): refill stops and the attach connections close, so every idle
    /// container's stdin ends; nothing is removed. Left to the reaper.
    /// </summary>
    internal async Task AbandonAsync()
    {
        Interlocked.Exchange(ref _disposed, 1);
        await _stopping.CancelAsync();
        try
        {
            await _refill;
        }
        catch (OperationCanceledException)
        {
            // The loops end by cancellation.
        }

        foreach (var slot in _slots.Values)
        {
            while (slot.Idle.TryDequeue(out var warm))
            {
                await warm.Attached.DisposeAsync();
            }
        }
    }

    /// <summary>Stops refilling and removes every idle container (shutdown: nothing of the pool outlives the service).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        try
        {
            await _refill;
        }
        catch (OperationCanceledException)
        {
            // The loops end by cancellation.
        }

        var removals = new List<Task>();
        foreach (var slot in _slots.Values)
        {
            while (slot.Idle.TryDequeue(out var warm))
            {
                removals.Add(RemoveAsync(warm));
            }
        }

        await Task.WhenAll(removals);
        _stopping.Dispose();
        _wake.Dispose();
    }

    private sealed class Slot(string name, string key, ContainerStep template, int size, string? imageReference)
    {
        /// <summary>The tag the template's image id was resolved from; null when the profile names an id already.</summary>
        public string? ImageReference { get; } = imageReference;

        /// <summary>Replaced by a slot of a newer image: what it still holds or makes is removed, never claimed.</summary>
        public volatile bool Retired;

        public string Name { get; } = name;

        public string Key { get; } = key;

        public ContainerStep Template { get; } = template;

        public int Size { get; } = size;

        public ConcurrentQueue<WarmContainer> Idle { get; } = new();

        /// <summary>Containers being made for this slot now.</summary>
        public int Making;

        /// <summary>Claimed containers whose replacement waits for their run's end (see <see cref="TryClaim"/>).</summary>
        public int Deferred;

        /// <summary>When the last attempt failed (a missing image, a refusing daemon): the next waits a moment.</summary>
        public long FailedAt;
    }

    private static partial class Log
    {
        [LoggerMessage(60, LogLevel.Warning, "Warm pool {Pool}: a container could not be made; trying again shortly")]
        public static partial void MakeFailed(ILogger logger, string pool, Exception exception);

        [LoggerMessage(61, LogLevel.Warning, "Warm pool: idle container {ContainerId} was no longer alive; discarded")]
        public static partial void Discarded(ILogger logger, string containerId);

        [LoggerMessage(62, LogLevel.Warning, "Warm pool: container {ContainerId} could not be removed now; the reaper will remove it")]
        public static partial void RemoveFailed(ILogger logger, string containerId, Exception exception);

        [LoggerMessage(63, LogLevel.Information, "Warm pool {Pool} keeps {Size} container(s) of runtime {Runtime}")]
        public static partial void Registered(ILogger logger, string pool, int size, string runtime);

        [LoggerMessage(64, LogLevel.Information, "Warm pool {Pool}: image {Reference} now names {Image}; idle containers of {Previous} are replaced")]
        public static partial void Repinned(ILogger logger, string pool, string reference, string image, string previous);
    }
}

/// <summary>One pool's numbers for <c>/metrics</c>.</summary>
public sealed record WarmPoolSlotStats(string Name, string Runtime, int Size, int Idle, int Making);
