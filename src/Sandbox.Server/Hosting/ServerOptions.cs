using Sandbox.Core.Runs;
using Sandbox.Docker.Pooling;

namespace Sandbox.Server.Hosting;

/// <summary>
/// The service's settings, bound from the <c>Sandbox</c> configuration section (appsettings,
/// <c>Sandbox__MaxConcurrentRuns</c> in the environment, <c>--Sandbox:MaxConcurrentRuns=4</c> on the command line).
/// </summary>
public sealed class ServerOptions
{
    public const string Section = "Sandbox";

    /// <summary>The profiles file or folder; empty means <c>SANDBOX_PROFILES</c>, then <c>profiles/</c> beside the executable.</summary>
    public string? Profiles { get; set; }

    /// <summary>Runs that execute at once. Default: one per core, since every run is allowed a full CPU.</summary>
    public int MaxConcurrentRuns { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// WebAssembly workers kept started and pre-initialised per guest profile (python-wasm: CPython started and waiting),
    /// each serving exactly one run; 0 starts every worker cold. Each idle one holds about 100 MB.
    /// </summary>
    public int WasmWarmWorkers { get; set; } = 2;

    /// <summary>
    /// Warm WebAssembly workers restore a snapshot of the first one's start-up instead of running it again; false runs it
    /// in every worker (each run then also gets its own CPython hash secret, which a snapshot generation shares).
    /// </summary>
    public bool WasmWarmSnapshots { get; set; } = true;

    /// <summary>Runs that may wait for a slot; past this a POST gets 429 at once.</summary>
    public int MaxQueueLength { get; set; } = 4 * Environment.ProcessorCount;

    /// <summary>How long a completed run's result (and its idempotency key) stays retrievable.</summary>
    public TimeSpan ResultRetention { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Completed runs kept at most, oldest evicted first, so retention cannot exhaust memory.</summary>
    public int MaxRetainedRuns { get; set; } = 10_000;

    /// <summary>
    /// Output kept in memory across one agent's completed runs (results and their event streams). Past it, the oldest
    /// runs' output is dropped first (their status, usage and the audit log's hashes stay), so one agent printing
    /// megabytes in a loop cannot fill the service's memory for the whole retention period.
    /// </summary>
    public long MaxRetainedOutputBytesPerAgent { get; set; } = 64L * 1024 * 1024;

    /// <summary>Largest request body accepted; past it the answer is 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// Bytes of request bodies one agent may have read or handled at once (a call reserves its declared length before its
    /// body is read, until it answers); past it the call is 429 <c>request_bytes_in_flight</c>, unread. At least
    /// <see cref="MaxRequestBodyBytes"/>; two bodies at that cap by default.
    /// </summary>
    public long MaxAgentRequestBytesInFlight { get; set; } = 16L * 1024 * 1024;

    /// <summary>
    /// The same, across all agents: a body read, parsed, validated and hashed took 6-8 times its size in memory at its peak
    /// (a 7 MiB body about 50 MB), so this bounds what calls can make the service hold (about 0.5 GB at the default); past
    /// it a call is 503 <c>server_busy</c>, unread.
    /// </summary>
    public long MaxRequestBytesInFlight { get; set; } = 64L * 1024 * 1024;

    /// <summary>How much of stdout and of stderr is shown as text before the middle is cut out (head and tail kept).</summary>
    public int MaxOutputTextBytes { get; set; } = 64 * 1024;

    /// <summary>On shutdown, how long running jobs may finish before they are killed and recorded as cancelled.</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Where the service keeps its files (logs today; the guard store later).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// Free space, in MiB, the data folder's disk keeps: below it new runs are refused (503 <c>store_unavailable</c>) and
    /// <c>/readyz</c> is not ready, so the service's growth (its audit log keeps every admitted run's code) stops before the
    /// host's disk is full, with room left for the runs in flight to record their ends. 0 turns the check off.
    /// </summary>
    public long MinFreeDataDiskMb { get; set; } = 1024;

    /// <summary>The guard's database (<c>Sandbox:Store</c>): SQLite under <see cref="DataDirectory"/> by default, or PostgreSQL.</summary>
    public Guard.Store.StoreOptions Store { get; set; } = new();

    /// <summary>Open connections at most; past it Kestrel closes new ones at once, so a flood of sockets cannot exhaust the host.</summary>
    public int MaxConnections { get; set; } = 1000;

    /// <summary>How long a client may take to send the request line and headers (slowloris holds connections otherwise).</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an idle keep-alive connection stays open (Kestrel's default, 130 s, keeps idle sockets long).</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The slowest a request body may arrive, after <see cref="RequestBodyGracePeriod"/>; slower is 408 request_timeout.</summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>How long a body may arrive slower than <see cref="MinRequestBodyBytesPerSecond"/> before it is cut off.</summary>
    public TimeSpan RequestBodyGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The Docker backend's warm pool (<c>Sandbox:WarmPool</c>): sizes per profile and the host's budget. With no
    /// <c>Sizes</c> configured, <see cref="DefaultPoolSizes"/> apply to the profiles that exist; <c>MaxContainers</c> 0 turns it off.
    /// </summary>
    public WarmPoolOptions WarmPool { get; set; } = new() { Sizes = new(StringComparer.Ordinal) };

    /// <summary>Python, the language agents call most, keeps two warm; the rest start cold unless configured.</summary>
    public static IReadOnlyDictionary<string, int> DefaultPoolSizes { get; } = new Dictionary<string, int>(StringComparer.Ordinal) { ["python"] = 2 };

    /// <summary>The pool settings to use with these profiles: the configured sizes, or the defaults that name an existing profile.</summary>
    public WarmPoolOptions EffectiveWarmPool(IReadOnlySet<string> dockerProfiles) => WarmPool.Sizes.Count > 0
        ? WarmPool
        : WarmPool with { Sizes = DefaultPoolSizes.Where(d => dockerProfiles.Contains(d.Key)).ToDictionary(StringComparer.Ordinal) };

    /// <summary>Every problem with the settings, each naming its key; empty when they are usable.</summary>
    public IReadOnlyList<FieldError> Validate()
    {
        var errors = new List<FieldError>();
        void Check(bool ok, string key, string message)
        {
            if (!ok)
            {
                errors.Add(new FieldError($"{Section}:{key}", message));
            }
        }

        Check(MaxConcurrentRuns is >= 1 and <= 1024, nameof(MaxConcurrentRuns), $"is {MaxConcurrentRuns}; use 1 to 1024");
        Check(WasmWarmWorkers is >= 0 and <= 32, nameof(WasmWarmWorkers), $"is {WasmWarmWorkers}; use 0 (no warm workers) to 32");
        Check(MaxQueueLength is >= 0 and <= 100_000, nameof(MaxQueueLength), $"is {MaxQueueLength}; use 0 to 100000");
        Check(ResultRetention > TimeSpan.Zero, nameof(ResultRetention), $"is {ResultRetention}; use a positive time such as 00:15:00");
        Check(MaxRetainedRuns >= 1, nameof(MaxRetainedRuns), $"is {MaxRetainedRuns}; use at least 1");
        Check(MaxRetainedOutputBytesPerAgent >= 1024 * 1024, nameof(MaxRetainedOutputBytesPerAgent), $"is {MaxRetainedOutputBytesPerAgent}; use at least 1048576");
        Check(MaxRequestBodyBytes is >= 1024 and <= 256L * 1024 * 1024, nameof(MaxRequestBodyBytes), $"is {MaxRequestBodyBytes}; use 1024 to 268435456");
        Check(MaxAgentRequestBytesInFlight >= MaxRequestBodyBytes && MaxAgentRequestBytesInFlight <= MaxRequestBytesInFlight, nameof(MaxAgentRequestBytesInFlight),
            $"is {MaxAgentRequestBytesInFlight}; use at least MaxRequestBodyBytes ({MaxRequestBodyBytes}, or no body that large could ever be read) and at most MaxRequestBytesInFlight ({MaxRequestBytesInFlight})");
        Check(MaxRequestBytesInFlight is >= 1024 and <= 64L * 1024 * 1024 * 1024, nameof(MaxRequestBytesInFlight), $"is {MaxRequestBytesInFlight}; use 1024 to 68719476736");
        Check(MaxOutputTextBytes >= 256, nameof(MaxOutputTextBytes), $"is {MaxOutputTextBytes}; use at least 256");
        Check(ShutdownGracePeriod >= TimeSpan.Zero, nameof(ShutdownGracePeriod), $"is {ShutdownGracePeriod}; use zero or more");
        Check(MinFreeDataDiskMb is >= 0 and <= 1_048_576, nameof(MinFreeDataDiskMb), $"is {MinFreeDataDiskMb}; use 0 (off) to 1048576");
        Check(MaxConnections is >= 1 and <= 1_000_000, nameof(MaxConnections), $"is {MaxConnections}; use 1 to 1000000");
        Check(RequestHeadersTimeout >= TimeSpan.FromSeconds(1) && RequestHeadersTimeout <= TimeSpan.FromMinutes(5), nameof(RequestHeadersTimeout), $"is {RequestHeadersTimeout}; use 00:00:01 to 00:05:00");
        Check(KeepAliveTimeout >= TimeSpan.FromSeconds(1) && KeepAliveTimeout <= TimeSpan.FromMinutes(10), nameof(KeepAliveTimeout), $"is {KeepAliveTimeout}; use 00:00:01 to 00:10:00");
        Check(MinRequestBodyBytesPerSecond is >= 1 and <= 1e9, nameof(MinRequestBodyBytesPerSecond), $"is {MinRequestBodyBytesPerSecond}; use 1 to 1000000000");

        // Kestrel checks rates once a second, and refuses a grace period that is not longer than that.
        Check(RequestBodyGracePeriod >= TimeSpan.FromSeconds(2) && RequestBodyGracePeriod <= TimeSpan.FromMinutes(5), nameof(RequestBodyGracePeriod), $"is {RequestBodyGracePeriod}; use 00:00:02 to 00:05:00");
        errors.AddRange(Store.Validate());
        return errors;
    }
}
