using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Sandbox.Server.IntegrationTests.Http;
using Sandbox.Server.IntegrationTests.Mcp;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Sessions;

/// <summary>
/// No session container outlives its service: SIGTERM closes the sessions before the process exits, and after kill -9 the
/// kernel sees its stdin close and exits, so <c>sandbox reap</c> removes the container by its session label.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SessionCrashTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Serve_SigTerm_ClosesItsSessionsAndRemovesTheirContainers()
    {
        var data = NewData();
        using var serve = ServeProcess.Start(data, SandboxApiFactory.AdminKey);
        await serve.WaitHealthyAsync(Token);
        var id = await OpenSessionAsync(serve);
        (await DockerProbe.ContainersOfRunAsync(id)).ShouldNotBeEmpty();

        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", serve.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!)
        {
            await kill.WaitForExitAsync(Token);
        }

        await serve.Process.WaitForExitAsync(Token).WaitAsync(TimeSpan.FromSeconds(60), Token);
        (await DockerProbe.ContainersOfRunAsync(id)).ShouldBeEmpty("a stopped service leaves no session container behind");

        // Its close is in the audit log with its cause, and the chain is intact: read by the operator's CLI over the same store.
        var (fileName, prefix) = McpProcess.SandboxExecutable();
        var environment = new Dictionary<string, string> { ["SANDBOX_DATA"] = data };
        var show = await ChildProcess.RunAsync(fileName, [.. prefix, "audit", "show", "--run", id, "--kind", "session", "--jsonl"], Path.GetTempPath(), environment);
        show.Exit.ShouldBe(0, show.Stderr);
        var records = show.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!).ToList();
        records.Select(r => (string?)r["status"]).ShouldBe(["opened", "closed"], show.Stdout);
        ((string?)records[1]["data"]!["cause"]).ShouldBe("shutdown", show.Stdout);
        var verify = await ChildProcess.RunAsync(fileName, [.. prefix, "audit", "verify"], Path.GetTempPath(), environment);
        verify.Exit.ShouldBe(0, verify.Stdout + verify.Stderr);
        Directory.Delete(data, recursive: true);
    }

    [Fact]
    public async Task Serve_Kill9_KernelExitsAndTheReaperRemovesItsContainer()
    {
        var data = NewData();
        using var serve = ServeProcess.Start(data, SandboxApiFactory.AdminKey);
        await serve.WaitHealthyAsync(Token);
        var id = await OpenSessionAsync(serve);
        serve.Kill();

        // The attach connection died with the process: the kernel reads EOF and exits, and the container stops.
        var watch = Stopwatch.StartNew();
        while (await StateAsync(id) == "running")
        {
            watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15), "the kernel should exit once its service is gone");
            await Task.Delay(200, Token);
        }

        var (fileName, prefix) = McpProcess.SandboxExecutable();
        var reap = await ChildProcess.RunAsync(fileName, [.. prefix, "reap", "--profiles", Path.Join(Sandbox.Testing.RepositoryRoot.Path, "images")], Path.GetTempPath());
        reap.Exit.ShouldBe(0, reap.Stderr);
        (await DockerProbe.ContainersOfRunAsync(id)).ShouldBeEmpty("the reaper removes a session container whose service is gone");
        Directory.Delete(data, recursive: true);
    }

    private static string NewData() => Path.Join(Path.GetTempPath(), "sandbox-session-crash-" + Guid.NewGuid().ToString("N"));

    private static async Task<string?> StateAsync(string sessionId)
    {
        var ps = await ChildProcess.RunAsync("docker", ["ps", "-a", "--filter", "label=io.sandbox.run-id=" + sessionId, "--format", "{{.State}}"], Path.GetTempPath());
        return ps.Stdout.Trim() is { Length: > 0 } state ? state : null;
    }

    private static async Task<string> OpenSessionAsync(ServeProcess serve)
    {
        using var create = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/agents") { Content = JsonContent.Create(new { name = "crash-" + Guid.NewGuid().ToString("N")[..8], profiles = s_profiles }) };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SandboxApiFactory.AdminKey);
        using var created = await serve.Http.SendAsync(create, Token);
        var key = (string)(await created.JsonAsync())["key"]!;

        using var open = new HttpRequestMessage(HttpMethod.Post, "/v1/sessions") { Content = JsonContent.Create(new { language = "python" }) };
        open.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var opened = await serve.Http.SendAsync(open, Token);
        var body = await opened.JsonAsync();
        opened.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToJsonString());
        return (string)body["id"]!;
    }

    private static readonly string[] s_profiles = ["python"];
}
