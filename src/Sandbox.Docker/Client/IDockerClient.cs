namespace Sandbox.Docker.Client;

/// <summary>
/// The slice of the Docker Engine API that Sandbox uses. Implemented over HTTP/1.1 on the Unix socket by
/// <see cref="DockerClient"/>; errors come out as <see cref="DockerException"/> subtypes mapped per endpoint.
/// </summary>
public interface IDockerClient
{
    /// <summary>GET /_ping. Throws <see cref="DockerUnavailableException"/> when the daemon cannot be reached.</summary>
    Task PingAsync(CancellationToken cancellationToken);

    /// <summary>GET /version. The client negotiates its API version from this (never above what it supports).</summary>
    Task<DockerVersion> GetVersionAsync(CancellationToken cancellationToken);

    /// <summary>GET /info: runtimes, security options, cgroup version.</summary>
    Task<DockerInfo> GetInfoAsync(CancellationToken cancellationToken);

    /// <summary>POST /containers/create. Not retried: a repeat could create a second container.</summary>
    Task<string> CreateContainerAsync(ContainerCreateRequest request, string? name, CancellationToken cancellationToken);

    /// <summary>POST /containers/{id}/start. 304 (already started) is success.</summary>
    Task StartContainerAsync(string id, CancellationToken cancellationToken);

    /// <summary>POST /containers/{id}/attach with stream, stdin, stdout and stderr: a hijacked, demultiplexed stream.</summary>
    Task<IAttachedStream> AttachAsync(string id, CancellationToken cancellationToken);

    /// <summary>POST /containers/{id}/wait: completes when the container stops.</summary>
    Task<ContainerWaitResponse> WaitContainerAsync(string id, CancellationToken cancellationToken);

    /// <summary>POST /containers/{id}/kill. Returns false when the container was not running (409) or is gone (404).</summary>
    Task<bool> KillContainerAsync(string id, string signal, CancellationToken cancellationToken);

    /// <summary>DELETE /containers/{id}?force=true&amp;v=true. Returns false when it was already gone (404).</summary>
    Task<bool> RemoveContainerAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// POST /containers/{id}/rename?name=…: the warm pool names a claimed container after its run, so start-up recovery
    /// finds it by name (labels cannot change after create). Not retried: a repeat after a lost answer would conflict with itself.
    /// </summary>
    Task RenameContainerAsync(string id, string name, CancellationToken cancellationToken);

    /// <summary>GET /containers/{id}/json. Throws <see cref="DockerNotFoundException"/> when gone.</summary>
    Task<ContainerInspectResponse> InspectContainerAsync(string id, CancellationToken cancellationToken);

    /// <summary>GET /containers/json?all=true&amp;filters={"label":[...]}: containers that carry every given label (key or key=value).</summary>
    Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(IReadOnlyList<string> labelFilters, CancellationToken cancellationToken);

    /// <summary>GET /images/{name}/json. Returns null when the image does not exist.</summary>
    Task<ImageInspectResponse?> InspectImageAsync(string name, CancellationToken cancellationToken);
}

/// <summary>A hijacked attach connection: write the container's stdin, read its demultiplexed stdout and stderr.</summary>
#pragma warning disable CA1711 // Named for Docker's own "attach stream" (stdin, stdout, stderr): not a System.IO.Stream.
public interface IAttachedStream : IAsyncDisposable
#pragma warning restore CA1711
{
    /// <summary>Writes to the container's stdin.</summary>
    ValueTask WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Half-closes the connection so the container's stdin sees end-of-file.</summary>
    ValueTask CloseStdinAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Reads the next frame's payload into <paramref name="buffer"/> (a frame larger than the buffer is
    /// returned over several calls). Returns the stream the bytes came from and how many bytes were read;
    /// a count of 0 means the container closed its output.
    /// </summary>
    ValueTask<(StdStream Stream, int Count)> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);
}

/// <summary>Which standard stream a frame of the multiplexed attach protocol belongs to.</summary>
#pragma warning disable CA1711 // Named for the standard streams (stdout, stderr) the attach protocol's frame header names.
public enum StdStream : byte
#pragma warning restore CA1711
{
    Stdin = 0,
    Stdout = 1,
    Stderr = 2,
}
