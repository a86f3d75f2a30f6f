using System.Security.Cryptography;
using System.Text.Json;
using Sandbox.Docker.Client;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.Pooling;

/// <summary>
/// What makes two steps' containers interchangeable: the SHA-256 of the whole create request (image, command,
/// environment, user, every hardening item and limit) and its limits label, without the parts that name one run (its other labels, name, cgroup parent).
/// A run claims a warm container only when the keys are equal, so a request that lowers a limit starts cold.
/// </summary>
internal static class PoolKey
{
    public static string Of(ContainerStep step)
    {
        // The compile step's CPU is a fact about one run, not about the container: a compiled program's run step claims too.
        var request = ContainerSpecBuilder.Build(step with { CompileCpuMs = null }, SeccompProfile.Runner).Request;
        var identityFree = request with
        {
            // The limits label stays: limits the host enforces (wall clock, output caps) are not in the rest of the spec,
            // and start-up recovery judges a claimed container by this label, so it must be the run's own.
            Labels = request.Labels?.Where(l => l.Key == SandboxLabels.Limits).ToDictionary(StringComparer.Ordinal),
            HostConfig = request.HostConfig with { CgroupParent = null },
        };
        var json = JsonSerializer.SerializeToUtf8Bytes(identityFree, DockerJsonContext.Default.ContainerCreateRequest);
        return Convert.ToHexStringLower(SHA256.HashData(json));
    }
}
