using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Policy;
using Sandbox.Server.IntegrationTests.Http;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Server.Runs;

namespace Sandbox.Server.IntegrationTests.Guard;

/// <summary>The operator's and the agent's view of the guard over HTTP, read as JSON nodes so assertions read the wire format.</summary>
internal static class GuardApi
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static HttpClient AdminClient(this SandboxApiFactory factory) => factory.CreateClient(SandboxApiFactory.AdminKey);

    /// <summary>Creates an agent and a client carrying its key.</summary>
    public static async Task<(IssuedKey Agent, HttpClient Client)> AgentAsync(this SandboxApiFactory factory, AgentSpec spec)
    {
        var issued = await factory.CreateAgentAsync(spec);
        return (issued, factory.CreateClient(issued.Key));
    }

    /// <summary>The principal behind a key, as the coordinator knows it (to look at runs after the key stopped working).</summary>
    public static async Task<Principal> PrincipalAsync(this SandboxApiFactory factory, string key) =>
        (await factory.Services.GetRequiredService<RunGuard>().Keys.CheckKeyAsync("Bearer " + key, Token)).Principal.ShouldNotBeNull();

    public static RunLifecycle Coordinator(this SandboxApiFactory factory) => factory.Services.GetRequiredService<RunLifecycle>();

    /// <summary><c>GET /admin/v1/audit?…</c> with the admin key.</summary>
    public static async Task<JsonArray> AuditAsync(this SandboxApiFactory factory, string query)
    {
        using var admin = factory.AdminClient();
        using var response = await admin.GetAsync("/admin/v1/audit?" + query, Token);
        response.EnsureSuccessStatusCode();
        return (await response.JsonAsync()).AsArray();
    }

    /// <summary>Every audit record of one run, in sequence order.</summary>
    public static Task<JsonArray> AuditOfRunAsync(this SandboxApiFactory factory, string runId) =>
        factory.AuditAsync("run=" + Uri.EscapeDataString(runId));

    /// <summary><c>GET /admin/v1/audit/verify</c>.</summary>
    public static async Task<JsonNode> VerifyAuditAsync(this SandboxApiFactory factory)
    {
        using var admin = factory.AdminClient();
        using var response = await admin.GetAsync("/admin/v1/audit/verify", Token);
        response.EnsureSuccessStatusCode();
        return await response.JsonAsync();
    }

    public static async Task ShouldBeIntactAsync(this SandboxApiFactory factory)
    {
        var verification = await factory.VerifyAuditAsync();
        ((bool?)verification["intact"]).ShouldBe(true, verification.ToJsonString());
    }

    /// <summary>POSTs an admin action (<c>revoke</c>, <c>hold</c>, <c>approve</c>, …) with a JSON body.</summary>
    public static async Task<HttpResponseMessage> AdminPostAsync(this SandboxApiFactory factory, string path, object? body = null)
    {
        using var admin = factory.AdminClient();
        return await admin.PostAsync(path, JsonContent.Create(body ?? new { }), Token);
    }

    public static async Task<HttpResponseMessage> MintTokenAsync(this HttpClient agent, object body) =>
        await agent.PostAsync("/v1/tokens", JsonContent.Create(body), Token);

    /// <summary>The run ids the agent's request records name, newest last.</summary>
    public static async Task<IReadOnlyList<string>> RunIdsOfAgentAsync(this SandboxApiFactory factory, string agentName) =>
        (await factory.AuditAsync($"agent={agentName}&kind=request")).Select(r => (string)r!["runId"]!).ToList();

    public static string Code(this JsonNode problem) => (string)problem["code"]!;

    /// <summary>The field names of a problem's <c>errors</c>.</summary>
    public static IReadOnlyList<string> ErrorFields(this JsonNode problem) =>
        problem["errors"]?.AsArray().Select(e => (string)e!["field"]!).ToList() ?? [];

    /// <summary>Polls until <paramref name="condition"/> holds or the timeout passes; returns whether it held.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (!deadline.IsCancellationRequested)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(25, Token);
        }

        return await condition();
    }
}
