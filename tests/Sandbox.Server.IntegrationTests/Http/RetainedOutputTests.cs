using Sandbox.Server.IntegrationTests.Guard;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>
/// Output kept after runs complete is capped per agent (Sandbox:MaxRetainedOutputBytesPerAgent): an agent printing a lot
/// in a loop cannot hold the service's memory for the whole retention period. Oldest output goes first; the run's status
/// stays, and the view says its output was dropped.
/// </summary>
public sealed class RetainedOutputTests : IAsyncLifetime
{
    /// <summary>About 300 KB of stdout: as bytes, as (cut) text and as events, about 1 MB kept per run; four pass a 3 MiB cap.</summary>
    private const string Print300K = "head -c 300000 /dev/zero | tr '\\0' x";

    private readonly SandboxApiFactory _factory = new(new Dictionary<string, string> { ["Sandbox:MaxRetainedOutputBytesPerAgent"] = (3 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture) });

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task PastTheAgentsCap_TheOldestRunsOutputIsDropped_AndTheNewestKept()
    {
        using var client = _factory.CreateClient();
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var view = await (await client.PostRunAsync(new { language = "bash", code = Print300K })).JsonAsync();
            ((string?)view["result"]!["status"]).ShouldBe("ok", view.ToJsonString());
            ((string)view["result"]!["stdout"]!).Length.ShouldBeGreaterThan(1000, "the synchronous answer always carries the output");
            ids.Add((string)view["id"]!);
        }

        var oldest = await (await client.GetAsync($"/v1/runs/{ids[0]}", Token)).JsonAsync();
        ((bool?)oldest["outputDropped"]).ShouldBe(true, oldest.ToJsonString());
        ((string?)oldest["result"]!["status"]).ShouldBe("ok");
        ((string)oldest["result"]!["stdout"]!).ShouldBeEmpty();

        var newest = await (await client.GetAsync($"/v1/runs/{ids[^1]}", Token)).JsonAsync();
        newest["outputDropped"].ShouldBeNull();
        ((string)newest["result"]!["stdout"]!).ShouldStartWith("xxxx");

        var retained = ids.Select(id => _factory.Coordinator().Find(id, _factory.DefaultPrincipal)!.RetainedOutputBytes()).Sum();
        retained.ShouldBeLessThanOrEqualTo(3L * 1024 * 1024, "what the agent's completed runs keep stays under its cap");
    }
}
