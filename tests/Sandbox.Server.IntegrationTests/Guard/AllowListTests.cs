using System.Net;
using Sandbox.Server.IntegrationTests.Http;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Guard;

/// <summary>What an agent may run: a profile off its allow-list, or limits above the profile's, is a 403 and nothing runs.</summary>
[Trait("Category", "Integration")]
public sealed class AllowListTests : IClassFixture<SandboxApiFactory>
{
    private readonly SandboxApiFactory _factory;

    public AllowListTests(SandboxApiFactory factory) => _factory = factory;

    [Fact]
    public async Task Post_ProfileNotOnTheAllowList_Is403Rejected_AuditedWithoutReceipt_AndNothingRan()
    {
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("allow-bash-only", "bash"));

        using var response = await agent.PostRunAsync(new { language = "python", code = "print('should never run')", purpose = "try another profile" });

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var problem = await response.JsonAsync();
        problem.Code().ShouldBe("rejected");
        problem.ErrorFields().ShouldBe(["language"]);
        ((string)problem["detail"]!).ShouldContain("python");
        var runId = (await _factory.RunIdsOfAgentAsync(issued.Agent.Name)).ShouldHaveSingleItem();
        var records = await _factory.AuditOfRunAsync(runId);
        records.Select(r => $"{r!["kind"]} {r["status"]}").ShouldBe(["request received", "decision rejected"], "no receipt and no result: nothing was planned to run");
        ((string?)records[1]!["data"]!["code"]).ShouldBe("profile_not_allowed");
        (await DockerProbe.ContainersOfRunAsync(runId)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Post_ExplicitProfileNotOnTheAllowList_NamesTheProfileField()
    {
        var (_, agent) = await _factory.AgentAsync(Some.Agent("allow-profile", "bash"));

        using var response = await agent.PostRunAsync(new { language = "python", profile = "python", code = "print(1)" });

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await response.JsonAsync()).ErrorFields().ShouldBe(["profile"]);
    }

    [Fact]
    public async Task Post_LimitsAboveTheProfile_Is403RejectedNamingTheLimit_AndNothingRan()
    {
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("allow-limits", "bash"));

        using var response = await agent.PostRunAsync(new { language = "bash", code = "echo hi", limits = new { memoryBytes = 99999999999L } });

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var problem = await response.JsonAsync();
        problem.Code().ShouldBe("rejected");
        problem.ErrorFields().ShouldBe(["limits.memoryBytes"]);
        var runId = (await _factory.RunIdsOfAgentAsync(issued.Agent.Name)).ShouldHaveSingleItem();
        var records = await _factory.AuditOfRunAsync(runId);
        records.Select(r => $"{r!["kind"]} {r["status"]}").ShouldBe(["request received", "decision rejected"]);
        ((string?)records[1]!["data"]!["code"]).ShouldBe("rejected");
        (await DockerProbe.ContainersOfRunAsync(runId)).ShouldBeEmpty();
        await _factory.ShouldBeIntactAsync();
    }
}
