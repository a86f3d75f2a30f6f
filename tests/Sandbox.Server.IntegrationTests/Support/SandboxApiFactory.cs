using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Policy;
using Sandbox.Server.Runs;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Support;

/// <summary>
/// The real service in-process, over the real backends: the repository's own profiles (images/), the
/// running Docker daemon and the built WebAssembly guests, and a real guard store in a fresh data folder.
/// Clients from <see cref="WebApplicationFactory{T}.CreateClient()"/> carry the key of a roomy test agent
/// allowed every profile; tests of the guard make their own agents with <see cref="CreateAgentAsync"/>.
/// Settings can be narrowed per test (a tiny queue).
/// </summary>
public sealed class SandboxApiFactory : WebApplicationFactory<Program>
{
    /// <summary>The admin key every factory configures, so admin API tests can act as the operator.</summary>
    public const string AdminKey = "test-admin-key-0123456789abcdef0123456789abcdef";

    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly string _dataDirectory = Path.Join(Path.GetTempPath(), "sandbox-server-tests", Guid.NewGuid().ToString("N"));
    private readonly Lock _agentGate = new();
    private IssuedKey? _defaultAgent;

    public SandboxApiFactory()
        : this(new Dictionary<string, string>())
    {
    }

    internal SandboxApiFactory(IReadOnlyDictionary<string, string> settings) => _settings = settings;

    public static string ProfilesPath => Path.Join(RepositoryRoot.Path, "images");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Sandbox:Profiles", ProfilesPath);
        builder.UseSetting("Sandbox:DataDirectory", _dataDirectory);
        builder.UseSetting("Sandbox:Guard:AdminKey", AdminKey);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    public string DataDirectory => _dataDirectory;

    /// <summary>The roomy default agent (every profile, high caps) whose key default clients carry.</summary>
    public IssuedKey DefaultAgent
    {
        get
        {
            lock (_agentGate)
            {
                return _defaultAgent ??= CreateAgentAsync(new AgentSpec
                {
                    Name = "test-agent",
                    Profiles = Services.GetRequiredService<RunLifecycle>().Pipeline.Profiles.All.Select(p => p.Name).ToList(),
                    RatePerMinute = 100_000,
                    MaxConcurrentRuns = 1024,
                    DailyCpuSeconds = 1_000_000,
                    DailyRuns = 10_000_000,
                }).GetAwaiter().GetResult();
            }
        }
    }

    /// <summary>The default agent as the coordinator knows it, for tests that look at runs from inside.</summary>
    public Principal DefaultPrincipal
    {
        get
        {
            var issued = DefaultAgent;
            var guard = Services.GetRequiredService<RunGuard>();
            return guard.Keys.CheckKeyAsync("Bearer " + issued.Key, CancellationToken.None).GetAwaiter().GetResult().Principal!;
        }
    }

    /// <summary>Creates an agent through the same operator action the CLI and admin API use.</summary>
    public async Task<IssuedKey> CreateAgentAsync(AgentSpec spec)
    {
        var result = await Services.GetRequiredService<AgentAdmin>().CreateAsync(spec, "test", CancellationToken.None);
        result.Ok.ShouldBeTrue(result.Message);
        return result.Value!;
    }

    /// <summary>A client with the given key (or none).</summary>
    public HttpClient CreateClient(string? key)
    {
        var client = CreateDefaultClient();
        client.DefaultRequestHeaders.Authorization = key is null ? null : new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", DefaultAgent.Key);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}

/// <summary>What the host's Docker says about our labelled containers, asked with the docker CLI so the check is independent of our client.</summary>
internal static class DockerProbe
{
    /// <summary>Removes what a killed service left behind (its reaper would, later); for tests that kill the service on purpose.</summary>
    public static async Task RemoveContainersOfRunAsync(string runId)
    {
        var ids = await ContainersOfRunAsync(runId);
        foreach (var id in ids.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var start = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { "rm", "-f", id })
            {
                start.ArgumentList.Add(arg);
            }

            using var process = Process.Start(start)!;
            await process.WaitForExitAsync();
        }
    }

    /// <summary>The run's containers: by its run-id label, or a claimed warm-pool container by its name (<c>sandbox-&lt;run id&gt;-run-claimed-…</c>).</summary>
    public static async Task<string> ContainersOfRunAsync(string runId)
    {
        var byLabel = await PsAsync("label=io.sandbox.run-id=" + runId);
        var claimed = await PsAsync("name=sandbox-" + runId + "-run-claimed-");
        return string.Join('\n', new[] { byLabel, claimed }.Where(s => s.Length > 0));
    }

    private static async Task<string> PsAsync(string filter)
    {
        var start = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "ps", "-a", "-q", "--filter", filter })
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
