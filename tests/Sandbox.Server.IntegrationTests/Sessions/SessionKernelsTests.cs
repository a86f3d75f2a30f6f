using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Http;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Sessions;

/// <summary>
/// The JavaScript and bash kernels through a real <c>sandbox serve</c>: state kept between cells over HTTP, an artifact
/// left by a cell downloaded by its hash, an infinite loop and a shell that exhausts memory each restarting their own
/// session only, in time and with the container gone, and the profiles that keep no session refused saying why.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SessionKernelsTests(SessionEndpointsTests.ServeFixture serve) : IClassFixture<SessionEndpointsTests.ServeFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task JavaScriptCells_KeepDeclarationsAndHandOutAFileDownloadedByItsHash()
    {
        using var agent = await serve.AgentAsync("js-cells");
        var id = await OpenAsync(agent, "javascript");

        await CellAsync(agent, id, "javascript", "const rows = [['x', 'y'], [1, 1], [2, 4]];\nlet total = 0;");
        var read = await CellAsync(agent, id, "javascript", "total = await Promise.resolve(rows.slice(1).reduce((s, [, y]) => s + y, 0));\n" +
            "require('fs').writeFileSync('/tmp/outputs/rows.csv', rows.map((r) => r.join(',')).join('\\n') + '\\n');\ntotal");
        ((string?)read["result"]!["status"]).ShouldBe("ok", read.ToJsonString());
        ((string?)read["result"]!["stdout"]).ShouldBe("5\n");
        read["session"]!["notes"]!.AsArray().ShouldBeEmpty();

        var listed = read["result"]!["artifacts"]!.AsArray().ShouldHaveSingleItem()!;
        ((string?)listed["path"]).ShouldBe("rows.csv");
        var bytes = await agent.Http.GetByteArrayAsync($"/v1/runs/{(string)read["id"]!}/artifacts/rows.csv", Token);
        System.Text.Encoding.UTF8.GetString(bytes).ShouldBe("x,y\n1,1\n2,4\n");
        Convert.ToHexStringLower(SHA256.HashData(bytes)).ShouldBe((string?)listed["sha256"]);
        await CloseAsync(agent, id);
    }

    [Fact]
    public async Task BashCells_KeepVariablesFunctionsAndCwd_AndExitRestartsTheShell()
    {
        using var agent = await serve.AgentAsync("bash-cells");
        var id = await OpenAsync(agent, "bash");

        await CellAsync(agent, id, "bash", "x=41; inc() { echo $(($1 + 1)); }; mkdir -p /tmp/w && cd /tmp/w");
        var read = await CellAsync(agent, id, "bash", "inc $x; pwd");
        ((string?)read["result"]!["stdout"]).ShouldBe("42\n/tmp/w\n", read.ToJsonString());

        var exited = await CellAsync(agent, id, "bash", "exit 5");
        ((int?)exited["result"]!["exitCode"]).ShouldBe(5, exited.ToJsonString());
        ((bool?)exited["session"]!["stateLost"]).ShouldBe(true);
        var fresh = await CellAsync(agent, id, "bash", "echo ${x:-gone}");
        ((string?)fresh["result"]!["stdout"]).ShouldBe("gone\n");
        fresh["session"]!["notes"]!.AsArray().Select(n => (string?)n).ShouldBe(["session_restarted"]);
        await CloseAsync(agent, id);
    }

    [Fact]
    public async Task Cell_InfiniteLoop_EndsWithinItsDeadlineAndRestartsItsSessionOnly()
    {
        using var agent = await serve.AgentAsync("js-spin");
        var spinning = await OpenAsync(agent, "javascript");
        var bystander = await OpenAsync(agent, "bash");
        await CellAsync(agent, spinning, "javascript", "let z = 1");
        await CellAsync(agent, bystander, "bash", "kept=yes");
        (await DockerProbe.ContainersOfRunAsync(spinning)).ShouldNotBeEmpty();

        var watch = Stopwatch.StartNew();
        var spin = await CellAsync(agent, spinning, "javascript", "while (true) {}", new { wallTimeMs = 1000, cpuTimeMs = 3000 });
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5), "the cell's own wall limit holds through the service");
        ((string?)spin["result"]!["status"]).ShouldBe("timeout", spin.ToJsonString());
        ((bool?)spin["session"]!["stateLost"]).ShouldBe(true);
        (await DockerProbe.ContainersOfRunAsync(spinning)).ShouldBeEmpty("the ended kernel's container is removed before the answer");

        var after = await CellAsync(agent, spinning, "javascript", "typeof z");
        ((string?)after["result"]!["stdout"]).ShouldBe("'undefined'\n");
        after["session"]!["notes"]!.AsArray().Select(n => (string?)n).ShouldBe(["session_restarted"]);

        var kept = await CellAsync(agent, bystander, "bash", "echo $kept");
        ((string?)kept["result"]!["stdout"]).ShouldBe("yes\n");
        kept["session"]!["notes"]!.AsArray().ShouldBeEmpty();
        await CloseAsync(agent, spinning);
        await CloseAsync(agent, bystander);
    }

    [Fact]
    public async Task Cell_ShellExhaustsMemory_RestartsItsSessionOnlyAndSaysSo()
    {
        using var agent = await serve.AgentAsync("bash-oom");
        var hungry = await OpenAsync(agent, "bash");
        var bystander = await OpenAsync(agent, "javascript");
        await CellAsync(agent, hungry, "bash", "z=1");
        await CellAsync(agent, bystander, "javascript", "let kept = 'yes'");

        var watch = Stopwatch.StartNew();
        var oom = await CellAsync(agent, hungry, "bash", "s=xxxxxxxxxxxxxxxx; while :; do s=$s$s; done");
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(20));
        ((string?)oom["result"]!["status"]).ShouldBe("memory_limit", oom.ToJsonString());
        ((bool?)oom["session"]!["stateLost"]).ShouldBe(true);
        (await DockerProbe.ContainersOfRunAsync(hungry)).ShouldBeEmpty("the killed shell's container is removed before the answer");

        var after = await CellAsync(agent, hungry, "bash", "echo ${z:-gone}");
        ((string?)after["result"]!["stdout"]).ShouldBe("gone\n");
        after["session"]!["notes"]!.AsArray().Select(n => (string?)n).ShouldBe(["session_restarted"]);
        var kept = await CellAsync(agent, bystander, "javascript", "kept");
        ((string?)kept["result"]!["stdout"]).ShouldBe("'yes'\n");
        kept["session"]!["notes"]!.AsArray().ShouldBeEmpty();
        await CloseAsync(agent, hungry);
        await CloseAsync(agent, bystander);
    }

    [Theory]
    [InlineData("{\"language\": \"c\"}", "language", "compiles")]
    [InlineData("{\"language\": \"csharp\"}", "language", "no session kernel")]
    [InlineData("{\"language\": \"javascript\", \"profile\": \"javascript-wasm\"}", "profile", "WebAssembly")]
    public async Task Open_ProfileWithoutAKernel_IsRefusedNamingTheFieldAndWhy(string body, string field, string why)
    {
        using var agent = await serve.AgentAsync("no-kernel");
        using var response = await agent.Http.PostAsync("/v1/sessions", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Token);
        var problem = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, problem.ToJsonString());
        ((string?)problem["code"]).ShouldBe("session_unsupported");
        var error = problem["errors"]!.AsArray().ShouldHaveSingleItem()!;
        ((string?)error["field"]).ShouldBe(field);
        ((string?)error["message"]).ShouldNotBeNull().ShouldContain(why);
    }

    private static async Task<string> OpenAsync(SessionEndpointsTests.ServeFixture.Agent agent, string language)
    {
        using var response = await agent.Http.PostAsync("/v1/sessions", JsonContent.Create(new { language }), Token);
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToJsonString());
        ((string?)body["language"]).ShouldBe(language);
        return (string)body["id"]!;
    }

    private static async Task<JsonNode> CellAsync(SessionEndpointsTests.ServeFixture.Agent agent, string id, string language, string code, object? limits = null)
    {
        using var response = await agent.Http.PostAsync($"/v1/sessions/{id}/runs", JsonContent.Create(new { language, code, limits }), Token);
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToJsonString());
        return body;
    }

    private static async Task CloseAsync(SessionEndpointsTests.ServeFixture.Agent agent, string id)
    {
        using var response = await agent.Http.DeleteAsync($"/v1/sessions/{id}", Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await DockerProbe.ContainersOfRunAsync(id)).ShouldBeEmpty("DELETE answers once the container is gone");
    }
}
