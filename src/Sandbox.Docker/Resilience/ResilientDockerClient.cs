using Sandbox.Docker.Client;

namespace Sandbox.Docker.Resilience;

/// <summary>
/// Decorates an <see cref="IDockerClient"/> (normally <see cref="DockerClient"/>) with timeouts, retries for
/// calls safe to repeat, and the shared circuit breaker of <see cref="DockerResiliencePipelines"/>.
/// </summary>
/// <remarks>Does not own the inner client: dispose the <see cref="DockerClient"/> yourself.</remarks>
internal sealed class ResilientDockerClient : IDockerClient
{
    private readonly IDockerClient _inner;
    private readonly DockerResiliencePipelines _pipelines;

    /// <param name="inner">The client that does the calls.</param>
    /// <param name="pipelines">Shared by every client of the same daemon, so they share one circuit.</param>
    public ResilientDockerClient(IDockerClient inner, DockerResiliencePipelines pipelines)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(pipelines);
        _inner = inner;
        _pipelines = pipelines;
    }

    /// <summary>Convenience: builds its own pipelines (and so its own circuit) from <paramref name="options"/>.</summary>
    public ResilientDockerClient(IDockerClient inner, DockerResilienceOptions options, TimeProvider timeProvider)
        : this(inner, new DockerResiliencePipelines(options, timeProvider))
    {
    }

    /// <summary>The pipelines this client runs through (for health checks of the circuit).</summary>
    public DockerResiliencePipelines Pipelines => _pipelines;

    public Task PingAsync(CancellationToken cancellationToken) =>
        _pipelines.ExecuteAsync(DockerOperation.Ping, async ct => { await _inner.PingAsync(ct); return true; }, cancellationToken);

    public Task<DockerVersion> GetVersionAsync(CancellationToken cancellationToken) =>
        _pipelines.ExecuteAsync(DockerOperation.Version, _inner.GetVersionAsync, cancellationToken);

    public Task<DockerInfo> GetInfoAsync(CancellationToken cancellationToken) =>
        _pipelines.ExecuteAsync(DockerOperation.Info, _inner.GetInfoAsync, cancellationToken);

    public Task<string> CreateContainerAsync(ContainerCreateRequest request, string? name, CancellationToken cancellationToken) =>
        _pipelines.ExecuteAsync(DockerOperation.CreateContainer, ct => _inner.CreateContainerAsync(request, name, ct), cancellationToken);

    public Task StartContainerAsync(string id, CancellationToken cancellationToken) =>
        _pipelines.ExecuteAsync(DockerOperation.StartContainer, async ct => { await _inner.StartContainerAsync(id, ct); return true; }, cancellationToken);

    public Task<IAttachedStream> AttachAsync(string id, CancellationToken cancellationToken) =>
        _pipelines.ExecuteAsync(DockerOperation.AttachContainer, ct => _inner.AttachAsync(id, ct), cancellationToken);

    public Task<ContainerWaitResponse> WaitContainerAsync(string id, CancellationToken cancellationToken) =>
        _pipelines.ExecuteAsync(DockerOperation.WaitContainer, ct => _inner.WaitContainerAsync(id, ct), cancellationToken);

    public Task<bool> KillContainerAsync(string id, string signal, CancellationToken cancellationToken) =>
        _pipelines.ExecuteAsync(DockerOperation.KillContainer, ct => _inner.KillContainerAsync(id, signal, ct), cancellationToken);

    public Task RenameContainerAsync(string id, string name, CancellationToken cancellationToken) =>
        _pipelines.ExecuteAsync(DockerOperation.RenameContainer, async ct => { await _inner.RenameContainerAsync(id, name, ct); return true; }, cancellationToken);

    public Task<bool> RemoveContainerAsync(string id, CancellationToken cancellationToken) =>
        _pipelines.ExecuteAsync(DockerOperation.RemoveContainer, ct => _inner.RemoveContainerAsync(id, ct), cancellationToken);

    public Task<ContainerInspectResponse> InspectContainerAsync(string id, CancellationToken cancellationToken) =>
        _pipelines.ExecuteAsync(DockerOperation.InspectContainer, ct => _inner.InspectContainerAsync(id, ct), cancellationToken);

    public Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(IReadOnlyList<string> labelFilters, CancellationToken cancellationToken) =>
        _pipelines.ExecuteAsync(DockerOperation.ListContainers, ct => _inner.ListContainersAsync(labelFilters, ct), cancellationToken);

    public Task<ImageInspectResponse?> InspectImageAsync(string name, CancellationToken cancellationToken) =>
        _pipelines.ExecuteAsync(DockerOperation.InspectImage, ct => _inner.InspectImageAsync(name, ct), cancellationToken);
}
