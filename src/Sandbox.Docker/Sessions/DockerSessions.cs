using Microsoft.Extensions.Logging;
using Sandbox.Core.Execution;
using Sandbox.Core.Profiles;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Execution;

namespace Sandbox.Docker.Sessions;

/// <summary>Opens sessions on Docker: which languages have a kernel, and a started <see cref="DockerSession"/> for a plan.</summary>
public sealed class DockerSessions
{
    private readonly IDockerClient _docker;
    private readonly CgroupMeter _meter;
    private readonly DockerBackendOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public DockerSessions(IDockerClient docker, CgroupMeter meter, TimeProvider time, ILogger<DockerSession> logger, DockerBackendOptions? options = null)
    {
        _docker = docker;
        _meter = meter;
        _time = time;
        _logger = logger;
        _options = options ?? new DockerBackendOptions();
    }

    /// <summary>This process's mark on its session containers (<c>io.sandbox.session</c>).</summary>
    public static string Instance { get; } = "s" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));

    /// <summary>The languages a session can keep state for: those with a kernel.</summary>
    public static IReadOnlySet<string> Languages => KernelProgram.Languages;

    /// <summary>Whether a session can run on <paramref name="profile"/>: a Docker profile of a language with a kernel, and no compile step.</summary>
    public static bool Supports(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return profile.Backend == BackendNames.Docker && profile.Compile is null && Languages.Contains(profile.Language);
    }

    /// <summary>Starts a session for <paramref name="plan"/> (its profile, runtime, limits and pinned image) and waits for its kernel.</summary>
    public async Task<DockerSession> OpenAsync(string id, RunPlan plan, DockerSessionOptions options, CancellationToken cancellationToken)
    {
        var session = new DockerSession(id, plan, options, _docker, _meter, _options, _time, _logger);
        try
        {
            await session.StartAsync(cancellationToken);
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }
}
