using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Profiles;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Execution;
using Sandbox.Docker.Reaping;
using Sandbox.Docker.Resilience;

namespace Sandbox.Cli.Hosting;

/// <summary>The composition root of the CLI: profiles, the Docker client and backend, the run pipeline.</summary>
internal sealed class SandboxHost : IDisposable
{
    private readonly DockerClient _dockerClient;

    private SandboxHost(ProfileSet profiles, string profilesPath, DockerClient dockerClient, IDockerClient docker, CgroupMeter meter, RunPipeline pipeline, ContainerReaper reaper)
    {
        Profiles = profiles;
        ProfilesPath = profilesPath;
        _dockerClient = dockerClient;
        Docker = docker;
        Meter = meter;
        Pipeline = pipeline;
        Reaper = reaper;
    }

    public ProfileSet Profiles { get; }

    public string ProfilesPath { get; }

    public IDockerClient Docker { get; }

    public CgroupMeter Meter { get; }

    public RunPipeline Pipeline { get; }

    public ContainerReaper Reaper { get; }

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

    /// <summary>Builds everything; a bad profiles file throws <see cref="ProfileConfigurationException"/> with every error.</summary>
    public static SandboxHost Create(string? profilesPath, ILoggerFactory? loggerFactory = null)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        var time = TimeProvider.System;
        var path = ResolveProfilesPath(profilesPath);
        var profiles = ProfileLoader.Load(path);

        var dockerClient = new DockerClient(DockerEndpoint.FromEnvironment());
        IDockerClient docker = new ResilientDockerClient(dockerClient, new DockerResilienceOptions(), time);
        var meter = CgroupMeter.Detect();
        var backend = new DockerBackend(docker, meter, new DockerBackendOptions(), time, loggerFactory.CreateLogger<DockerBackend>());
        var pipeline = new RunPipeline(profiles, [backend], time, loggerFactory.CreateLogger<RunPipeline>());
        var reaper = new ContainerReaper(docker, meter, time, loggerFactory.CreateLogger<ContainerReaper>());
        return new SandboxHost(profiles, path, dockerClient, docker, meter, pipeline, reaper);
    }

    public void Dispose() => _dockerClient.Dispose();
}
