using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Profiles;
using Sandbox.Docker;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Execution;
using Sandbox.Docker.Pooling;
using Sandbox.Docker.Reaping;
using Sandbox.Wasm.Backend;

namespace Sandbox.Server.Hosting;

/// <summary>The composition root of the CLI and the service: profiles, the Docker client and backend, the WebAssembly backend, the run pipeline.</summary>
public sealed class SandboxHost : IDisposable, IAsyncDisposable
{
    private readonly DockerClient _dockerClient;
    private readonly DockerSandbox _docker;

    private SandboxHost(ProfileSet profiles, string profilesPath, DockerClient dockerClient, DockerSandbox docker, WasmBackend wasm, RunPipeline pipeline)
    {
        Wasm = wasm;
        Profiles = profiles;
        ProfilesPath = profilesPath;
        _dockerClient = dockerClient;
        _docker = docker;
        Pipeline = pipeline;
    }

    public ProfileSet Profiles { get; }

    public string ProfilesPath { get; }

    public IDockerClient Docker => _docker.Docker;

    /// <summary>The daemon without retries or the breaker: for health checks, which must see the daemon as it is now, not the breaker's memory of it.</summary>
    public IDockerClient DirectDocker => _dockerClient;

    public CgroupMeter Meter => _docker.Meter;

    public RunPipeline Pipeline { get; }

    /// <summary>The Docker backend the pipeline runs container profiles on.</summary>
    public DockerBackend DockerBackend => _docker.Backend;

    /// <summary>The WebAssembly backend, for its worker's availability (doctor, readiness).</summary>
    public WasmBackend Wasm { get; }

    public ContainerReaper Reaper => _docker.Reaper;

    /// <summary>
    /// Where profiles come from, first match wins: <c>--profiles</c>, <c>SANDBOX_PROFILES</c>, then the
    /// <c>profiles/</c> folder beside the executable (where <c>make build</c> puts the defaults).
    /// </summary>
    public static string ResolveProfilesPath(string? explicitPath)
    {
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return explicitPath;
        }

        if (Environment.GetEnvironmentVariable("SANDBOX_PROFILES") is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        return Path.Join(AppContext.BaseDirectory, "profiles");
    }

    /// <summary>Builds everything on the system clock (the CLI's one-shot commands); a bad profiles file throws <see cref="ProfileConfigurationException"/> with every error.</summary>
    public static SandboxHost Create(string? profilesPath, ILoggerFactory? loggerFactory = null)
    {
        var path = ResolveProfilesPath(profilesPath);
        return Create(ProfileLoader.Load(path), path, TimeProvider.System, loggerFactory);
    }

    /// <summary>
    /// Builds everything around profiles already loaded (the service loads them first so bad ones stop start-up), on the
    /// composition root's <paramref name="time"/>: the pipeline and both backends take that one clock, so a fake clock controls
    /// deadlines end to end.
    /// </summary>
    public static SandboxHost Create(ProfileSet profiles, string path, TimeProvider time, ILoggerFactory? loggerFactory = null, WasmWorkerOptions? wasmOptions = null)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        var dockerClient = DockerClient.FromEnvironment();
        var docker = DockerSandbox.Create(dockerClient, time, loggerFactory);
        var wasm = new WasmBackend(time, loggerFactory.CreateLogger<WasmBackend>(), wasmOptions);
        var pipeline = new RunPipeline(profiles, [docker.Backend, wasm], time, loggerFactory.CreateLogger<RunPipeline>());
        return new SandboxHost(profiles, path, dockerClient, docker, wasm, pipeline);
    }

    /// <summary>How long the start-up ping may take before Docker counts as unreachable.</summary>
    public static readonly TimeSpan DockerPingTimeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Pings Docker once; when it does not answer, marks the docker backend unavailable so runs of a
    /// language with a <c>-wasm</c> profile fall back to it (the choice itself is Core's <see cref="BackendSelector"/>).
    /// Returns whether Docker answered.
    /// </summary>
    public async Task<bool> CheckDockerAsync(CancellationToken cancellationToken)
    {
        if (await PingDirectAsync(cancellationToken))
        {
            // The daemon answers: the breaker's memory of the outage must not outlive it (runs would fail fast while ready).
            await _docker.CloseCircuitIfOpenAsync(cancellationToken);

            Pipeline.MarkAvailable(BackendNames.Docker);
            return true;
        }

        Pipeline.MarkUnavailable(BackendNames.Docker);
        return false;
    }

    /// <summary>One ping straight to the daemon (no retry, no breaker), bounded by <see cref="DockerPingTimeout"/>.</summary>
    public async Task<bool> PingDirectAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(DockerPingTimeout);
        try
        {
            await _dockerClient.PingAsync(timeout.Token);
            return true;
        }
        catch (Exception e) when (e is Core.Errors.SandboxException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>The Docker backend's warm pool, once started (<see cref="StartWarmPoolAsync"/>); null otherwise.</summary>
    public WarmPool? WarmPool => _docker.Backend.Pool;

    /// <summary>Starts the Docker backend's warm pool for this host's profiles (once; a second call keeps the first pool).</summary>
    public async Task<WarmPool?> StartWarmPoolAsync(WarmPoolOptions options, ILogger logger, CancellationToken cancellationToken) =>
        _docker.Backend.Pool ?? (options.MaxContainers == 0 ? null : await _docker.Backend.StartPoolAsync(Profiles.All, options, logger, cancellationToken));

    /// <summary>Stops the warm pool and removes its idle containers (shutdown).</summary>
    public Task StopWarmPoolAsync() => _docker.Backend.StopPoolAsync();

    /// <summary>Waits for the removals of finished runs' containers still under way (shutdown: nothing outlives the service).</summary>
    public Task WhenContainersRemovedAsync() => _docker.Backend.WhenRemovedAsync();

    /// <summary>For the dry run: whether the plan's run would claim a warm container now; null without a pool.</summary>
    public Task<bool?> HasWarmAsync(RunPlan plan, CancellationToken cancellationToken) => _docker.Backend.HasWarmAsync(plan, cancellationToken);

    public void Dispose()
    {
        Wasm.Dispose();
        _dockerClient.Dispose();
    }

    /// <summary>
    /// Waits for the removals of finished runs' containers still under way, then disposes. A command that ends right after
    /// its run (`sandbox run`, `sandbox doctor`'s self-tests) left its last container behind for the reaper otherwise:
    /// the removal runs after the result is returned, and the process exited first.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await WhenContainersRemovedAsync();
        Dispose();
    }
}
