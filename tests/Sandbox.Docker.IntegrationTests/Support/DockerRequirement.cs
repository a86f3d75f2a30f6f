using Sandbox.Docker.Client;

namespace Sandbox.Docker.IntegrationTests.Support;

/// <summary>
/// The one place that decides what a missing Docker daemon or base image means: on CI (<c>CI=true</c>) the
/// test fails, because a green run without Docker would prove nothing; on a developer machine it is skipped
/// with the reason and the fix.
/// </summary>
internal static class DockerRequirement
{
    /// <summary>The image every integration test runs; built by <c>make images</c>.</summary>
    public const string BaseImage = "sandbox/base:bookworm";

    /// <summary>Label on every container a test creates, so leftovers can be found and removed.</summary>
    public const string TestLabelKey = "sandbox.test";

    public const string TestLabelValue = "1";

    private static readonly TimeSpan s_probeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>True when the CI variable says this is a build server.</summary>
    public static bool IsCi =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Pings the daemon and looks for <see cref="BaseImage"/>; fails on CI, skips locally when either is missing.</summary>
    public static async Task EnsureAvailableAsync(IDockerClient client)
    {
        using var timeout = new CancellationTokenSource(s_probeTimeout);
        string? problem;
        try
        {
            await client.PingAsync(timeout.Token);
            problem = await client.InspectImageAsync(BaseImage, timeout.Token) is null
                ? $"the image {BaseImage} is missing; run `make images`"
                : null;
        }
        catch (DockerException ex)
        {
            problem = $"Docker is not available: {ex.Message}";
        }
        catch (OperationCanceledException)
        {
            problem = $"Docker did not answer within {s_probeTimeout.TotalSeconds} s";
        }

        if (problem is null)
        {
            return;
        }

        if (IsCi)
        {
            Assert.Fail($"{problem} (CI=true: integration tests need a running Docker daemon and the images, they never skip on CI)");
        }

        Assert.Skip($"{problem} (skipped locally; on CI this fails)");
    }
}
