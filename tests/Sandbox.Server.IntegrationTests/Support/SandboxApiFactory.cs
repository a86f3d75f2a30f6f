using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Support;

/// <summary>
/// The real service in-process, over the real backends: the repository's own profiles (images/), the
/// running Docker daemon and the built WebAssembly guests. Settings can be narrowed per test (a tiny queue).
/// </summary>
public sealed class SandboxApiFactory : WebApplicationFactory<Program>
{
    private readonly IReadOnlyDictionary<string, string> _settings;

    public SandboxApiFactory()
        : this(new Dictionary<string, string>())
    {
    }

    internal SandboxApiFactory(IReadOnlyDictionary<string, string> settings) => _settings = settings;

    public static string ProfilesPath => Path.Join(RepositoryRoot.Path, "images");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Sandbox:Profiles", ProfilesPath);
        builder.UseSetting("Sandbox:DataDirectory", Path.Join(Path.GetTempPath(), "sandbox-server-tests"));
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }
}

/// <summary>What the host's Docker says about our labelled containers, asked with the docker CLI so the check is independent of our client.</summary>
internal static class DockerProbe
{
    public static async Task<string> ContainersOfRunAsync(string runId)
    {
        var start = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "ps", "-a", "-q", "--filter", "label=io.sandbox.run-id=" + runId })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        process.ExitCode.ShouldBe(0, "docker ps failed");
        return output.Trim();
    }
}
