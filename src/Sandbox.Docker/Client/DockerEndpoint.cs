using System.Text;

namespace Sandbox.Docker.Client;

/// <summary>
/// Where the daemon listens. Read from <c>DOCKER_HOST</c> like the Docker CLI does, but only
/// <c>unix://</c> is supported: Sandbox talks to a local daemon and never sends traffic over the network.
/// </summary>
public sealed record DockerEndpoint
{
    /// <summary>The environment variable the Docker CLI reads; we honour the same one.</summary>
    public const string EnvironmentVariable = "DOCKER_HOST";

    /// <summary>The daemon's default socket on Linux.</summary>
    public const string DefaultSocketPath = "/var/run/docker.sock";

    private const string UnixScheme = "unix://";

    // sockaddr_un.sun_path is 108 bytes on Linux, including the terminating NUL.
    private const int MaxSocketPathBytes = 107;

    public DockerEndpoint(string socketPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(socketPath);
        SocketPath = socketPath;
    }

    /// <summary>The default endpoint, <c>unix:///var/run/docker.sock</c>.</summary>
    public static DockerEndpoint Default { get; } = new(DefaultSocketPath);

    /// <summary>Absolute path of the daemon's Unix socket.</summary>
    public string SocketPath { get; }

    /// <summary>Reads <c>DOCKER_HOST</c>; unset or empty means <see cref="Default"/>.</summary>
    public static DockerEndpoint FromEnvironment() => Parse(Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>
    /// Parses a <c>DOCKER_HOST</c> value: null, empty or bare <c>unix://</c> mean the default socket;
    /// <c>unix:///abs/path</c> names a socket; anything else (tcp://, ssh://, npipe://, a bare path) is refused.
    /// </summary>
    /// <exception cref="DockerException">The value is not a usable <c>unix://</c> address; the message names DOCKER_HOST and the fix.</exception>
    public static DockerEndpoint Parse(string? dockerHost)
    {
        if (string.IsNullOrWhiteSpace(dockerHost))
        {
            return Default;
        }

        string value = dockerHost.Trim();
        if (!value.StartsWith(UnixScheme, StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid(value, "only unix:// sockets are supported (Sandbox never talks to a daemon over the network)");
        }

        string path = value[UnixScheme.Length..];
        if (path.Length == 0)
        {
            return Default;
        }

        if (!path.StartsWith('/'))
        {
            throw Invalid(value, "the socket path must be absolute, e.g. unix:///var/run/docker.sock");
        }

        if (path.Contains('?', StringComparison.Ordinal) || path.Contains('#', StringComparison.Ordinal))
        {
            throw Invalid(value, "a unix:// address takes no query or fragment");
        }

        if (Encoding.UTF8.GetByteCount(path) > MaxSocketPathBytes)
        {
            throw Invalid(value, $"the socket path is longer than the {MaxSocketPathBytes} bytes a Unix socket address can hold");
        }

        return new DockerEndpoint(path);
    }

    public override string ToString() => UnixScheme + SocketPath;

    private static DockerException Invalid(string value, string why) => new(
        $"{EnvironmentVariable}='{value}' is not supported: {why}; set {EnvironmentVariable}=unix:///path/to/docker.sock or unset it to use {UnixScheme}{DefaultSocketPath}",
        EnvironmentVariable);
}
