using Microsoft.Extensions.Logging;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Execution;
using Sandbox.Docker.Reaping;
using Sandbox.Docker.Resilience;

namespace Sandbox.Docker;

/// <summary>
/// The Docker side wired together once, for every composition root (CLI, tests, bench): the resilient
/// client over the raw one, the cgroup meter, the backend and the reaper.
/// </summary>
public sealed class DockerSandbox
{
    private DockerSandbox(IDockerClient docker, CgroupMeter meter, DockerBackend backend, ContainerReaper reaper)
    {
        Docker = docker;
        Meter = meter;
        Backend = backend;
        Reaper = reaper;
    }

    /// <summary>The client every component uses: retries, timeouts and the circuit breaker over the raw client.</summary>
    public IDockerClient Docker { get; }

    public CgroupMeter Meter { get; }

    public DockerBackend Backend { get; }

    public ContainerReaper Reaper { get; }

    /// <summary>
    /// Closes the circuit breaker when it is open: for a caller whose direct ping (no breaker) just proved the daemon
    /// answers again, so runs planned on Docker do not fail fast for the rest of the break duration.
    /// </summary>
    public Task CloseCircuitIfOpenAsync(CancellationToken cancellationToken) =>
        Docker is ResilientDockerClient resilient ? resilient.Pipelines.CloseIfOpenAsync(cancellationToken) : Task.CompletedTask;

    /// <summary>Wires the components over <paramref name="client"/>, which the caller keeps and disposes.</summary>
    public static DockerSandbox Create(IDockerClient client, TimeProvider time, ILoggerFactory loggers)
    {
        // The pipelines get a logger of their own: retries and every breaker transition are logged.
        var docker = new ResilientDockerClient(client, new DockerResiliencePipelines(new DockerResilienceOptions(), time, loggers.CreateLogger<DockerResiliencePipelines>()));
        var meter = CgroupMeter.Detect();
        return new DockerSandbox(
            docker,
            meter,
            new DockerBackend(docker, meter, new DockerBackendOptions(), time, loggers.CreateLogger<DockerBackend>(), direct: client),
            new ContainerReaper(docker, meter, time, loggers.CreateLogger<ContainerReaper>()));
    }
}
