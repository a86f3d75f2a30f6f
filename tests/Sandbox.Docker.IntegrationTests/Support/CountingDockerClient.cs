using System.Collections.Concurrent;
using Sandbox.Docker.Client;

namespace Sandbox.Docker.IntegrationTests.Support;

/// <summary>
/// The real client, with a record of every call that names a container: which Engine API call, and for which container.
/// Nothing is changed on the way; tests count what a run asks of the daemon (issue 13: calls per warm run).
/// </summary>
internal sealed class CountingDockerClient(IDockerClient inner) : IDockerClient
{
    private readonly ConcurrentQueue<(string Call, string Container)> _calls = new();

    /// <summary>The calls made so far for <paramref name="container"/> (its id), in order.</summary>
    public IReadOnlyList<string> CallsFor(string container) => [.. _calls.Where(c => c.Container == container).Select(c => c.Call)];

    private void Note(string call, string container) => _calls.Enqueue((call, container));

    public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);

    public Task<DockerVersion> GetVersionAsync(CancellationToken cancellationToken) => inner.GetVersionAsync(cancellationToken);

    public Task<DockerInfo> GetInfoAsync(CancellationToken cancellationToken) => inner.GetInfoAsync(cancellationToken);

    public async Task<string> CreateContainerAsync(ContainerCreateRequest request, string? name, CancellationToken cancellationToken)
    {
        var id = await inner.CreateContainerAsync(request, name, cancellationToken);
        Note("create", id);
        return id;
    }

    public Task StartContainerAsync(string id, CancellationToken cancellationToken)
    {
        Note("start", id);
        return inner.StartContainerAsync(id, cancellationToken);
    }

    public Task<IAttachedStream> AttachAsync(string id, CancellationToken cancellationToken)
    {
        Note("attach", id);
        return inner.AttachAsync(id, cancellationToken);
    }

    public Task<ContainerWaitResponse> WaitContainerAsync(string id, CancellationToken cancellationToken)
    {
        Note("wait", id);
        return inner.WaitContainerAsync(id, cancellationToken);
    }

    public Task<bool> KillContainerAsync(string id, string signal, CancellationToken cancellationToken)
    {
        Note("kill", id);
        return inner.KillContainerAsync(id, signal, cancellationToken);
    }

    public Task<bool> RemoveContainerAsync(string id, CancellationToken cancellationToken)
    {
        Note("remove", id);
        return inner.RemoveContainerAsync(id, cancellationToken);
    }

    public Task RenameContainerAsync(string id, string name, CancellationToken cancellationToken)
    {
        Note("rename", id);
        return inner.RenameContainerAsync(id, name, cancellationToken);
    }

    public Task<ContainerInspectResponse> InspectContainerAsync(string id, CancellationToken cancellationToken)
    {
        Note("inspect", id);
        return inner.InspectContainerAsync(id, cancellationToken);
    }

    public Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(IReadOnlyList<string> labelFilters, CancellationToken cancellationToken) =>
        inner.ListContainersAsync(labelFilters, cancellationToken);

    public Task<ImageInspectResponse?> InspectImageAsync(string name, CancellationToken cancellationToken) => inner.InspectImageAsync(name, cancellationToken);
}
