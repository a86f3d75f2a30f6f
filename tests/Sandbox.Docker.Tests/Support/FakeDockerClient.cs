using System.Collections.Concurrent;
using Sandbox.Docker.Client;

namespace Sandbox.Docker.Tests.Support;

/// <summary>
/// A scriptable <see cref="IDockerClient"/> for the resilience tests: counts calls per operation and runs
/// <see cref="Behavior"/> (throw, hang, succeed) before returning a canned result.
/// </summary>
internal sealed class FakeDockerClient : IDockerClient
{
    private readonly ConcurrentDictionary<DockerOperation, int> _calls = new();

    /// <summary>Runs on every call; its exception is what the call throws. Null: every call succeeds at once.</summary>
    public Func<DockerOperation, CancellationToken, Task>? Behavior { get; set; }

    public int Calls(DockerOperation operation) => _calls.GetValueOrDefault(operation);

    public int TotalCalls => _calls.Values.Sum();

    /// <summary>Makes every call fail with <paramref name="exception"/> (made fresh per call by the factory).</summary>
    public void FailWith(Func<DockerOperation, Exception> exception) => Behavior = (op, _) => Task.FromException(exception(op));

    public Task PingAsync(CancellationToken cancellationToken) => Run(DockerOperation.Ping, true, cancellationToken);

    public Task<DockerVersion> GetVersionAsync(CancellationToken cancellationToken) =>
        Run(DockerOperation.Version, new DockerVersion { ApiVersion = "1.41", Version = "20.10.24" }, cancellationToken);

    public Task<DockerInfo> GetInfoAsync(CancellationToken cancellationToken) => Run(DockerOperation.Info, new DockerInfo(), cancellationToken);

    public Task<string> CreateContainerAsync(ContainerCreateRequest request, string? name, CancellationToken cancellationToken) =>
        Run(DockerOperation.CreateContainer, "c0ffee", cancellationToken);

    public Task StartContainerAsync(string id, CancellationToken cancellationToken) => Run(DockerOperation.StartContainer, true, cancellationToken);

    public Task<IAttachedStream> AttachAsync(string id, CancellationToken cancellationToken) =>
        Run<IAttachedStream>(DockerOperation.AttachContainer, new NullAttachedStream(), cancellationToken);

    public Task<ContainerWaitResponse> WaitContainerAsync(string id, CancellationToken cancellationToken) =>
        Run(DockerOperation.WaitContainer, new ContainerWaitResponse { StatusCode = 3 }, cancellationToken);

    public Task<bool> KillContainerAsync(string id, string signal, CancellationToken cancellationToken) =>
        Run(DockerOperation.KillContainer, false, cancellationToken);

    public Task<bool> RemoveContainerAsync(string id, CancellationToken cancellationToken) =>
        Run(DockerOperation.RemoveContainer, true, cancellationToken);

    public Task RenameContainerAsync(string id, string name, CancellationToken cancellationToken) =>
        Run(DockerOperation.RenameContainer, true, cancellationToken);

    public Task<ContainerInspectResponse> InspectContainerAsync(string id, CancellationToken cancellationToken) =>
        Run(DockerOperation.InspectContainer, new ContainerInspectResponse { Id = id }, cancellationToken);

    public Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(IReadOnlyList<string> labelFilters, CancellationToken cancellationToken) =>
        Run<IReadOnlyList<ContainerSummary>>(DockerOperation.ListContainers, [new ContainerSummary { Id = "c0ffee" }], cancellationToken);

    /// <summary>What image inspect answers (null: no such image).</summary>
    public ImageInspectResponse? Image { get; set; }

    public Task<ImageInspectResponse?> InspectImageAsync(string name, CancellationToken cancellationToken) =>
        Run(DockerOperation.InspectImage, Image, cancellationToken);

    private async Task<T> Run<T>(DockerOperation operation, T result, CancellationToken cancellationToken)
    {
        _calls.AddOrUpdate(operation, 1, (_, n) => n + 1);
        if (Behavior is { } behavior)
        {
            await behavior(operation, cancellationToken);
        }

        return result;
    }

    private sealed class NullAttachedStream : IAttachedStream
    {
        public ValueTask WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => default;

        public ValueTask CloseStdinAsync(CancellationToken cancellationToken) => default;

        public ValueTask<(StdStream Stream, int Count)> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
            ValueTask.FromResult((StdStream.Stdout, 0));

        public ValueTask DisposeAsync() => default;
    }
}
