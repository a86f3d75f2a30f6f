using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Sandbox.Server.IntegrationTests.Http;

namespace Sandbox.Server.IntegrationTests.OperatorConsole;

/// <summary>
/// The new console endpoints over plain HTTP against a real <c>sandbox serve</c>: the run stream resumed after
/// <c>Last-Event-ID</c> without repeating anything, and the state-changing forms (cancel, create) refused without the
/// CSRF token or from another site, with nothing done; the read-only streams and exports refused without a session.
/// </summary>
[Trait("Category", "Integration")]
public sealed partial class ConsoleEndpointTests : IClassFixture<ConsoleFixture>
{
    private readonly ConsoleFixture _fixture;

    public ConsoleEndpointTests(ConsoleFixture fixture) => _fixture = fixture;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunEvents_ResumedAfterLastEventId_SendOnlyWhatFollows()
    {
        using var agent = await _fixture.ActiveAgentAsync("console-sse");
        string runId;
        using (var ran = await agent.PostAsJsonAsync("/v1/runs", new JsonObject { ["language"] = "bash", ["code"] = "echo one; sleep 0.3; echo two >&2; sleep 0.3; echo three" }, Token))
        {
            ran.StatusCode.ShouldBe(HttpStatusCode.OK);
            runId = (string)(await ran.JsonAsync())["id"]!;
        }

        using var http = await SignedInAsync();
        var all = Events(await http.GetStringAsync($"/console/runs/{runId}/events", Token));
        all.Where(e => e.Kind is "stdout" or "stderr").Select(e => e.Text).ShouldBe(["one\n", "two\n", "three\n"]);
        all[^1].Kind.ShouldBe("result");

        var firstOutput = all.First(e => e.Kind == "stdout");
        using var resumed = new HttpRequestMessage(HttpMethod.Get, $"/console/runs/{runId}/events");
        resumed.Headers.Add("Last-Event-ID", firstOutput.Id);
        using var answer = await http.SendAsync(resumed, Token);
        var rest = Events(await answer.Content.ReadAsStringAsync(Token));
        rest.Select(e => e.Id).ShouldBe(all.SkipWhile(e => e.Id != firstOutput.Id).Skip(1).Select(e => e.Id));
        rest.ShouldNotContain(e => e.Text == "one\n");

        using var bad = new HttpRequestMessage(HttpMethod.Get, $"/console/runs/{runId}/events");
        bad.Headers.Add("Last-Event-ID", "-1");
        (await http.SendAsync(bad, Token)).StatusCode.ShouldBe(HttpStatusCode.BadRequest);

        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }, disposeHandler: true) { BaseAddress = _fixture.BaseAddress };
        (await anonymous.GetAsync($"/console/runs/{runId}/events", Token)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await anonymous.GetAsync("/console/audit/export", Token)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        using var list = await anonymous.GetAsync("/console/runs/list", Token);
        list.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        list.Headers.Location!.ToString().ShouldBe("/console/signin");
    }

    [Fact]
    public async Task CancelAndCreate_WithoutTheTokenOrFromAnotherSite_AreRefusedAndDoNothing()
    {
        using var agent = await _fixture.ActiveAgentAsync("console-forms");
        using var accepted = await agent.PostAsJsonAsync("/v1/runs", new JsonObject { ["language"] = "bash", ["code"] = "sleep 30", ["async"] = true }, Token);
        var runId = (string)(await accepted.JsonAsync())["id"]!;
        using var http = await SignedInAsync();
        var token = CsrfField().Match(await http.GetStringAsync($"/console/runs/{runId}", Token)).Groups[1].Value;
        token.ShouldNotBeEmpty();
        var name = "console-forged-" + Guid.NewGuid().ToString("N")[..6];
        var create = new[] { ("name", name), ("profiles", "bash"), ("confirm", "yes") };

        (await PostAsync(http, $"/console/runs/{runId}/cancel", [])).ShouldBe(HttpStatusCode.Forbidden);
        (await PostAsync(http, $"/console/runs/{runId}/cancel", [("csrf", "forged")])).ShouldBe(HttpStatusCode.Forbidden);
        (await PostAsync(http, $"/console/runs/{runId}/cancel", [("csrf", token)], ("Sec-Fetch-Site", "cross-site"))).ShouldBe(HttpStatusCode.Forbidden);
        (await PostAsync(http, "/console/agents/new", create)).ShouldBe(HttpStatusCode.Forbidden);
        (await PostAsync(http, "/console/agents/new", [.. create, ("csrf", token)], ("Origin", "http://evil.test"))).ShouldBe(HttpStatusCode.Forbidden);

        ((string?)(await (await agent.GetAsync($"/v1/runs/{runId}", Token)).JsonAsync())["state"]).ShouldNotBe("completed");
        using var admin = _fixture.AdminClient();
        (await admin.GetAsync($"/admin/v1/agents/{name}", Token)).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        // The controls: with the token, from this site, each is done.
        (await PostAsync(http, $"/console/runs/{runId}/cancel", [("csrf", token)])).ShouldBe(HttpStatusCode.Redirect);
        ((string?)(await (await agent.GetAsync($"/v1/runs/{runId}", Token)).JsonAsync())["result"]!["status"]).ShouldBe("cancelled");
        (await LogTextAsync($"Console: run {runId} of agent")).ShouldContain($"cancelled by operator Ops Http: Cancelled");
        (await PostAsync(http, "/console/agents/new", [.. create, ("csrf", token)])).ShouldBe(HttpStatusCode.Created);
        (await admin.GetAsync($"/admin/v1/agents/{name}", Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    /// <summary>The service's log files once one holds <paramref name="expected"/> (Serilog writes them asynchronously), or after 5 s.</summary>
    private async Task<string> LogTextAsync(string expected)
    {
        var logs = Path.Join(_fixture.DataDirectory, "logs");
        var text = "";
        for (var i = 0; i < 50 && !text.Contains(expected, StringComparison.Ordinal); i++)
        {
            await Task.Delay(100, Token);
            text = string.Concat(Directory.Exists(logs) ? Directory.GetFiles(logs).Select(ReadShared) : []);
        }

        return text;

        static string ReadShared(string path)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }

    private async Task<HttpClient> SignedInAsync()
    {
        var handler = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
        var http = new HttpClient(handler, disposeHandler: true) { BaseAddress = _fixture.BaseAddress };
        using var signIn = await http.PostAsync("/console/signin", Form([("key", ConsoleFixture.AdminKey), ("operator", "Ops Http")]), Token);
        signIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        return http;
    }

    private static async Task<HttpStatusCode> PostAsync(HttpClient http, string path, (string Name, string Value)[] fields, (string Name, string Value)? header = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Form(fields) };
        if (header is { } h)
        {
            request.Headers.Add(h.Name, h.Value);
        }

        using var response = await http.SendAsync(request, Token);
        return response.StatusCode;
    }

    private static FormUrlEncodedContent Form((string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));

    /// <summary>The frames of an event stream: id, kind and the data's text.</summary>
    private static List<(string Id, string Kind, string? Text)> Events(string stream) =>
        [.. stream.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(frame =>
        {
            var fields = frame.Split('\n').Select(l => l.Split(": ", 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
            return (fields["id"], fields["event"], (string?)JsonNode.Parse(fields["data"])!["text"]);
        })];

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();
}
