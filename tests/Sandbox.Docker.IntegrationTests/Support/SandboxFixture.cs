using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Execution;
using Sandbox.Docker.Pooling;
using Sandbox.Docker.Spec;

[assembly: AssemblyFixture(typeof(Sandbox.Docker.IntegrationTests.Support.SandboxFixture))]

namespace Sandbox.Docker.IntegrationTests.Support;

/// <summary>
/// The real thing, once per test assembly: the repository's profiles, our Docker client against the real
/// daemon, the Docker backend and the run pipeline. The runtime under test comes from
/// <c>SANDBOX_TEST_RUNTIME</c> (runc by default; <c>make test</c> runs the suite under runc, crun and runsc).
/// At the end it asserts that no labelled container was left behind.
/// </summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    private readonly DockerClient _client = DockerClient.FromEnvironment();
    private Task<string?>? _runtimeProblem;

    public SandboxFixture()
    {
        Profiles = ProfileLoader.LoadTree(RepositoryPaths.Images, "profile.json");
        var docker = DockerSandbox.Create(_client, TimeProvider.System, NullLoggerFactory.Instance);
        Docker = docker.Docker;
        Meter = docker.Meter;
        Backend = docker.Backend;
        Pipeline = new RunPipeline(Profiles, [Backend], TimeProvider.System, NullLogger<RunPipeline>.Instance);
    }

    /// <summary>runc, crun or runsc: the runtime this run of the suite exercises.</summary>
    public static string Runtime { get; } = Environment.GetEnvironmentVariable("SANDBOX_TEST_RUNTIME") is { Length: > 0 } r ? r : RuntimeNames.Runc;

    public ProfileSet Profiles { get; }

    internal IDockerClient Docker { get; }

    /// <summary>The client without the resilience pipelines, for tests that wire a backend of their own.</summary>
    internal DockerClient RawClient => _client;

    internal CgroupMeter Meter { get; }

    internal DockerBackend Backend { get; }

    public RunPipeline Pipeline { get; }

    /// <summary>Runs code through the whole pipeline under the runtime being tested.</summary>
    public async Task<RunResult> RunAsync(RunRequest request, CancellationToken cancellationToken = default)
    {
        await DockerRequirement.EnsureAvailableAsync(Docker);
        await EnsureRuntimeRegisteredAsync();
        return await Pipeline.RunAsync(ForRuntime(request), cancellationToken);
    }

    /// <summary>
    /// Fails (never skips, on CI or not) when dockerd does not list the runtime under test: a suite asked to run under a
    /// runtime must not pass by running under another, and <c>.ci/run</c> (eng/docker-up.sh) registers all three.
    /// </summary>
    public async Task EnsureRuntimeRegisteredAsync()
    {
        var problem = await (_runtimeProblem ??= FindRuntimeProblemAsync());
        if (problem is not null)
        {
            Assert.Fail(problem);
        }
    }

    private async Task<string?> FindRuntimeProblemAsync()
    {
        if (!RuntimeNames.IsContainer(Runtime))
        {
            return $"SANDBOX_TEST_RUNTIME is '{Runtime}'; it must be {RuntimeNames.ContainerList}";
        }

        var info = await Docker.GetInfoAsync(CancellationToken.None);
        return info.Runtimes?.ContainsKey(Runtime) == true
            ? null
            : $"dockerd does not list the runtime '{Runtime}' (SANDBOX_TEST_RUNTIME) in `docker info` Runtimes; run `bash eng/docker-up.sh`, which registers runc, crun and runsc";
    }

    /// <summary>
    /// Under runsc, the language's gVisor profile when there is one (gVisor needs more pids and memory), else a request
    /// for runsc. Under runc or crun, a request for it wherever the profile names the other (the two are equally strong,
    /// and the shipped profiles name crun).
    /// </summary>
    public RunRequest ForRuntime(RunRequest request)
    {
        if (Runtime is RuntimeNames.Runc or RuntimeNames.Crun && request.Runtime is null)
        {
            var named = request.Profile ?? request.Language;
            return Profiles.TryGet(named, out var profile) && profile.Backend == BackendNames.Docker
                && profile.Runtime is RuntimeNames.Runc or RuntimeNames.Crun && profile.Runtime != Runtime
                ? request with { Runtime = Runtime }
                : request;
        }

        if (Runtime != RuntimeNames.Runsc || request.Runtime is not null)
        {
            return request;
        }

        var gvisor = (request.Profile ?? request.Language) + "-gvisor";
        return Profiles.TryGet(gvisor, out _) ? request with { Profile = gvisor } : request with { Runtime = RuntimeNames.Runsc };
    }

    /// <summary>
    /// Our labelled containers that still exist (of one run: by its label, or a claimed warm container by its name), once the
    /// removals of runs that already returned have ended (a run that ended by itself answers before its container is gone).
    /// </summary>
    internal async Task<IReadOnlyList<ContainerSummary>> LeftoversAsync(string? runId = null)
    {
        await Backend.WhenRemovedAsync();
        return [.. (await Docker.ListContainersAsync([SandboxLabels.Managed + "=true"], CancellationToken.None))
            .Where(c => runId is null || c.Labels?.GetValueOrDefault(SandboxLabels.RunId) == runId || ClaimName.Parse(c)?.RunId == runId)];
    }

    /// <summary>
    /// With <c>SANDBOX_TEST_WARM_POOL=N</c>, the suite runs with a warm pool of N containers for every Docker profile of the
    /// runtime under test (runc: the plain profiles, runsc: the -gvisor ones), so the containment suite runs warm.
    /// </summary>
    public static int WarmPoolSize { get; } = int.TryParse(Environment.GetEnvironmentVariable("SANDBOX_TEST_WARM_POOL"), out var size) ? size : 0;

    /// <summary>Labelled containers that were there before the suite (another run's, on a shared machine): not this suite's to answer for.</summary>
    private HashSet<string> _before = [];

    public async ValueTask InitializeAsync()
    {
        try
        {
            _before = [.. (await Docker.ListContainersAsync([SandboxLabels.Managed + "=true"], CancellationToken.None)).Select(c => c.Id)];
        }
        catch (DockerException) when (!DockerRequirement.IsCi)
        {
            // No daemon on a developer machine: the tests skip.
        }

        if (WarmPoolSize <= 0)
        {
            return;
        }

        var sizes = Profiles.All
            .Where(p => p.Backend == BackendNames.Docker && p.Runtime == Runtime)
            .ToDictionary(p => p.Name, _ => WarmPoolSize, StringComparer.Ordinal);
        await Backend.StartPoolAsync(Profiles.All, new WarmPoolOptions { Sizes = sizes, MaxContainers = sizes.Count * WarmPoolSize }, NullLogger.Instance, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Backend.StopPoolAsync();
            var left = (await LeftoversAsync()).Where(c => !_before.Contains(c.Id)).ToList();
            Assert.True(left.Count == 0, $"{left.Count} labelled container(s) were left after the suite: {string.Join(", ", left.Select(c => c.Names is { Count: > 0 } names ? names[0] : c.Id))}");
        }
        catch (DockerException) when (!DockerRequirement.IsCi)
        {
            // No daemon on a developer machine: the tests were skipped, so there is nothing to check.
        }
        finally
        {
            _client.Dispose();
        }
    }
}
