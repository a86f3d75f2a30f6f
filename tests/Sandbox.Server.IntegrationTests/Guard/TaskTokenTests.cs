using System.Net;
using Sandbox.Server.IntegrationTests.Http;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Guard;

/// <summary>Task tokens (<c>POST /v1/tokens</c>) only ever narrow their agent's key, and die with it.</summary>
[Trait("Category", "Integration")]
public sealed class TaskTokenTests : IClassFixture<SandboxApiFactory>
{
    private static readonly string[] s_bashOnly = ["bash"];

    private readonly SandboxApiFactory _factory;

    public TaskTokenTests(SandboxApiFactory factory) => _factory = factory;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Mint_WithinTheParent_ReturnsANarrowerToken_ThatRuns()
    {
        var (_, agent) = await _factory.AgentAsync(Some.Agent("token-ok", "bash", "python") with { DailyRuns = 50, DailyCpuSeconds = 30 });

        using var response = await agent.MintTokenAsync(new { profiles = s_bashOnly, ttlSeconds = 600, maxRuns = 5, cpuSeconds = 10, purpose = "one task" });

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var minted = await response.JsonAsync();
        ((string)minted["token"]!).ShouldStartWith("sbxt_");
        minted["profiles"]!.AsArray().Select(p => (string)p!).ShouldBe(["bash"]);
        ((int)minted["maxRuns"]!).ShouldBe(5);
        using var token = _factory.CreateClient((string)minted["token"]!);
        var run = await (await token.PostRunAsync(Some.Bash("echo via-token"))).JsonAsync();
        ((string?)run["result"]!["stdout"]).ShouldBe("via-token\n");
    }

    [Theory]
    [InlineData("profiles", """{"profiles":["python"]}""")]
    [InlineData("ttlSeconds", """{"profiles":["bash"],"ttlSeconds":7200}""")]
    [InlineData("maxRuns", """{"profiles":["bash"],"maxRuns":11}""")]
    [InlineData("cpuSeconds", """{"profiles":["bash"],"cpuSeconds":5.5}""")]
    public async Task Mint_MoreThanTheParentHas_Is403NamingTheField(string field, string body)
    {
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("token-exceeds", "bash") with { DailyRuns = 10, DailyCpuSeconds = 5 });

        using var response = await agent.PostAsync("/v1/tokens", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Token);

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden, await response.Content.ReadAsStringAsync(Token));
        var problem = await response.JsonAsync();
        problem.Code().ShouldBe("rejected");
        problem.ErrorFields().ShouldBe([field]);
        var decisions = await _factory.AuditAsync($"agent={issued.Agent.Name}&kind=decision&status=rejected");
        ((string?)decisions.ShouldHaveSingleItem()!["data"]!["action"]).ShouldBe("mint_token");
    }

    [Theory]
    [InlineData("")] // attack: each of these minted a token for every profile of the agent
    [InlineData("{}")]
    [InlineData("null")]
    [InlineData("{\"profiles\": []}")]
    [InlineData("{\"ttlSeconds\": 60}")]
    public async Task Mint_WithoutProfiles_Is400NamingProfiles(string body)
    {
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("token-no-profiles", "bash", "python"));

        using var response = await agent.PostAsync("/v1/tokens", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Token);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync(Token));
        var problem = await response.JsonAsync();
        problem.Code().ShouldBe("invalid_request");
        problem.ErrorFields().ShouldBe(["profiles"]);
    }

    [Fact]
    public async Task Run_ProfileOffTheTokensList_Is403_EvenWhenTheAgentMayUseIt()
    {
        var (_, agent) = await _factory.AgentAsync(Some.Agent("token-narrow", "bash", "python"));
        using var token = await TokenClientAsync(agent, new { profiles = s_bashOnly });

        using var response = await token.PostRunAsync(new { language = "python", code = "print(1)" });

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var problem = await response.JsonAsync();
        problem.Code().ShouldBe("rejected");
        problem.ErrorFields().ShouldBe(["language"]);
    }

    [Fact]
    public async Task Mint_WithATaskToken_Is403()
    {
        var (_, agent) = await _factory.AgentAsync(Some.Agent("token-mint-token"));
        using var token = await TokenClientAsync(agent, new { profiles = s_bashOnly });

        using var response = await token.MintTokenAsync(new { });

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var problem = await response.JsonAsync();
        problem.Code().ShouldBe("rejected");
        problem.ErrorFields().ShouldBe(["authorization"]);
    }

    [Fact]
    public async Task Run_AfterTheAgentIsRevoked_TokenIs401AgentRevoked()
    {
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("token-revoked"));
        using var token = await TokenClientAsync(agent, new { profiles = s_bashOnly });
        (await token.GetAsync("/v1/me", Token)).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var revoked = await _factory.AdminPostAsync($"/admin/v1/agents/{issued.Agent.Id}/revoke", new { reason = "token test", by = "test" });
        revoked.StatusCode.ShouldBe(HttpStatusCode.OK);

        using var response = await token.PostRunAsync(Some.Bash("echo no"));
        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await response.JsonAsync()).Code().ShouldBe("agent_revoked");
    }

    [Fact]
    public async Task Run_AfterTheKeyThatMintedItIsRotated_TokenIs401KeyRevoked()
    {
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("token-rotated"));
        using var token = await TokenClientAsync(agent, new { profiles = s_bashOnly });
        (await token.GetAsync("/v1/me", Token)).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var rotated = await _factory.AdminPostAsync($"/admin/v1/agents/{issued.Agent.Id}/rotate", new { by = "test" });
        rotated.StatusCode.ShouldBe(HttpStatusCode.OK, await rotated.Content.ReadAsStringAsync(Token));

        using var response = await token.PostRunAsync(Some.Bash("echo no"));
        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, "rotating a leaked key must stop the tokens it minted too");
        (await response.JsonAsync()).Code().ShouldBe("key_revoked");
        (await _factory.RunIdsOfAgentAsync(issued.Agent.Name)).ShouldBeEmpty();
    }

    [Fact]
    public async Task GetAndCancel_ARunTheTokenDidNotStart_Are404_WhileItsOwnRunIsVisible()
    {
        var (_, agent) = await _factory.AgentAsync(Some.Agent("token-own-runs"));
        using var token = await TokenClientAsync(agent, new { profiles = s_bashOnly });
        using var sibling = await TokenClientAsync(agent, new { profiles = s_bashOnly });
        var agentRun = (string)(await (await agent.PostRunAsync(Some.BashAsync("sleep 30"))).JsonAsync())["id"]!;
        var siblingRun = (string)(await (await sibling.PostRunAsync(Some.BashAsync("sleep 30"))).JsonAsync())["id"]!;
        var ownRun = (string)(await (await token.PostRunAsync(Some.BashAsync("echo mine"))).JsonAsync())["id"]!;
        try
        {
            foreach (var other in new[] { agentRun, siblingRun })
            {
                (await token.GetAsync($"/v1/runs/{other}", Token)).StatusCode.ShouldBe(HttpStatusCode.NotFound, $"GET {other}");
                (await token.GetAsync($"/v1/runs/{other}/events", Token)).StatusCode.ShouldBe(HttpStatusCode.NotFound, $"events of {other}");
                (await token.DeleteAsync($"/v1/runs/{other}", Token)).StatusCode.ShouldBe(HttpStatusCode.NotFound, $"DELETE {other}");
            }

            (await token.GetAsync($"/v1/runs/{ownRun}", Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
            var still = await (await agent.GetAsync($"/v1/runs/{agentRun}", Token)).JsonAsync();
            ((string?)still["state"]).ShouldNotBe("completed", "the token's DELETE must not have cancelled the agent's run");
            (await agent.GetAsync($"/v1/runs/{siblingRun}", Token)).StatusCode.ShouldBe(HttpStatusCode.OK, "the agent's own key still sees every run of its agent");
        }
        finally
        {
            await agent.DeleteAsync($"/v1/runs/{agentRun}", Token);
            await agent.DeleteAsync($"/v1/runs/{siblingRun}", Token);
        }
    }

    [Fact]
    public async Task Post_AnIdempotencyKeyAnotherTokenUsed_StartsItsOwnRun()
    {
        var (_, agent) = await _factory.AgentAsync(Some.Agent("token-idem"));
        using var first = await TokenClientAsync(agent, new { profiles = s_bashOnly });
        using var second = await TokenClientAsync(agent, new { profiles = s_bashOnly });

        var a = await (await first.PostRunAsync(Some.Bash("echo first"), idempotencyKey: "same-key")).JsonAsync();
        using var replay = await second.PostRunAsync(Some.Bash("echo first"), idempotencyKey: "same-key");

        replay.Headers.Contains("Idempotent-Replayed").ShouldBeFalse("a replay would hand the second token the first one's run");
        ((string?)(await replay.JsonAsync())["id"]).ShouldNotBe((string?)a["id"]);
    }

    /// <summary>
    /// Attack: an agent mints task tokens in a loop (each one a stored credential and an audit record).
    /// Expected: past Sandbox:Guard:TokensPerAgentPerHour, 429 cap_exceeded with cap token_mint_rate and a Retry-After,
    /// audited as a throttled decision; another agent still mints.
    /// </summary>
    [Fact]
    public async Task Mint_PastTokensPerAgentPerHour_Is429TokenMintRate_AndAudited()
    {
        await using var factory = new SandboxApiFactory(new Dictionary<string, string> { ["Sandbox:Guard:TokensPerAgentPerHour"] = "3" });
        var (issued, agent) = await factory.AgentAsync(Some.Agent("token-minter"));
        var (_, other) = await factory.AgentAsync(Some.Agent("token-other"));
        for (var i = 0; i < 3; i++)
        {
            using var ok = await agent.MintTokenAsync(new { profiles = s_bashOnly });
            ok.StatusCode.ShouldBe(HttpStatusCode.OK, $"mint {i + 1} of 3");
        }

        using var refused = await agent.MintTokenAsync(new { profiles = s_bashOnly });
        using var otherAgent = await other.MintTokenAsync(new { profiles = s_bashOnly });

        refused.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests, await refused.Content.ReadAsStringAsync(Token));
        var problem = await refused.JsonAsync();
        problem.Code().ShouldBe("cap_exceeded");
        ((string?)problem["cap"]).ShouldBe("token_mint_rate");
        ((int)refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds).ShouldBeInRange(3500, 3600);
        otherAgent.StatusCode.ShouldBe(HttpStatusCode.OK, "the cap is per agent");
        var throttled = (await factory.AuditAsync($"agent={issued.Agent.Name}&kind=decision&status=throttled")).ShouldHaveSingleItem()!;
        ((string?)throttled["data"]!["cap"]).ShouldBe("token_mint_rate");
        ((string?)throttled["data"]!["action"]).ShouldBe("mint_token");
    }

    private async Task<HttpClient> TokenClientAsync(HttpClient agent, object spec)
    {
        using var minted = await agent.MintTokenAsync(spec);
        minted.StatusCode.ShouldBe(HttpStatusCode.OK, await minted.Content.ReadAsStringAsync(Token));
        return _factory.CreateClient((string)(await minted.JsonAsync())["token"]!);
    }
}

