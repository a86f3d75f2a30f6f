using System.Net;
using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>POST/GET/DELETE /v1/runs against the real service and the real Docker backend.</summary>
public sealed class RunEndpointsTests : IClassFixture<SandboxApiFactory>
{
    private readonly SandboxApiFactory _factory;

    public RunEndpointsTests(SandboxApiFactory factory) => _factory = factory;

    [Fact]
    public async Task Post_PythonHello_WaitsAndReturnsTheResult()
    {
        using var client = _factory.CreateClient();

        using var response = await client.PostRunAsync(new { language = "python", code = "print(1+1)", purpose = "smoke test" });

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var view = await response.JsonAsync();
        ((string?)view["state"]).ShouldBe("completed");
        ((string?)view["result"]!["status"]).ShouldBe("ok");
        ((string?)view["result"]!["stdout"]).ShouldBe("2\n");
        ((string?)view["result"]!["backend"]).ShouldBe("docker");
        ((long?)view["queueMs"]).ShouldNotBeNull();
        ((long?)view["runMs"]!).ShouldNotBeNull().ShouldBeGreaterThan(0);
        response.Headers.Location!.ToString().ShouldBe($"/v1/runs/{view["id"]}");

        var again = await (await client.GetAsync(response.Headers.Location, TestContext.Current.CancellationToken)).JsonAsync();
        ((string?)again["result"]!["stdout"]).ShouldBe("2\n");
    }

    /// <summary>An import of a package the image lacks is answered with why it cannot be installed and what is there (issue 14, "packages are known").</summary>
    [Fact]
    public async Task Post_ImportOfAMissingPackage_IsARuntimeErrorWhoseHintSaysNoNetworkAndListsThePackages()
    {
        using var client = _factory.CreateClient();

        var view = await (await client.PostRunAsync(new { language = "python", code = "import numpy\nimport requests\n" })).JsonAsync();

        var result = view["result"]!;
        ((string?)result["status"]).ShouldBe("runtime_error");
        ((string?)result["stderr"]).ShouldNotBeNull().ShouldContain("ModuleNotFoundError: No module named 'requests'");
        var message = ((string?)result["hint"]).ShouldNotBeNull();
        message.ShouldContain("module 'requests' is not installed");
        message.ShouldContain("no network");
        message.ShouldContain("numpy ");
    }

    [Fact]
    public async Task Post_NoPurpose_RunsAsOverMcp()
    {
        // One rule for purpose on every front end: optional, length-bounded by the guard (README, "purpose").
        using var client = _factory.CreateClient();

        using var response = await client.PostRunAsync(new { language = "python", code = "print(1)" });

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        ((string?)(await response.JsonAsync())["result"]!["status"]).ShouldBe("ok");
    }

    [Fact]
    public async Task Post_PurposeTooLong_IsRefusedNamingPurpose()
    {
        using var client = _factory.CreateClient();

        using var response = await client.PostRunAsync(new { language = "python", code = "print(1)", purpose = new string('p', 1001) });

        ((int)response.StatusCode).ShouldBeInRange(400, 403);
        (await response.JsonAsync())["errors"]!.AsArray().Select(e => (string?)e!["field"]).ShouldContain("purpose");
    }

    [Fact]
    public async Task Post_Async_Answers202WithLocation_AndTheRunCompletesLater()
    {
        using var client = _factory.CreateClient();

        using var response = await client.PostRunAsync(new { language = "python", code = "import time; time.sleep(0.5); print('late')", @async = true });

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var id = (string)(await response.JsonAsync())["id"]!;
        response.Headers.Location!.ToString().ShouldBe($"/v1/runs/{id}");
        var done = await client.WaitForStateAsync(id, "completed", TimeSpan.FromSeconds(30));
        ((string?)done["result"]!["stdout"]).ShouldBe("late\n");
    }

    [Fact]
    public async Task Post_OutputWithEscapes_IsSanitised_AndRawBytesComeOnRequest()
    {
        using var client = _factory.CreateClient();
        const string Code = "import sys; sys.stdout.buffer.write(b'\\x1b[31mred\\x1b[0m \\xff ok\\n')";

        var view = await (await client.PostRunAsync(new { language = "python", code = Code, rawOutput = true })).JsonAsync();

        var stdout = (string)view["result"]!["stdout"]!;
        stdout.ShouldNotContain("\u001b");
        stdout.ShouldContain("red");
        stdout.ShouldContain("\uFFFD");
        byte[] expected = [0x1b, .. "[31mred"u8, 0x1b, .. "[0m "u8, 0xff, .. " ok\n"u8];
        Convert.FromBase64String((string)view["raw"]!["stdout"]!).ShouldBe(expected);
    }

    [Fact]
    public async Task Post_DryRun_ReturnsThePlanAndRunsNothing()
    {
        using var client = _factory.CreateClient();

        var plan = await (await client.PostRunAsync(new { language = "python", code = "print(1)", dryRun = true, limits = new { wallTimeMs = 2000 } })).JsonAsync();

        ((bool?)plan["wouldRun"]).ShouldBe(true);
        ((string?)plan["backend"]).ShouldBe("docker");
        ((string?)plan["image"]).ShouldBe("sandbox/python:latest");
        ((long?)plan["limits"]!["wallTimeMs"]).ShouldBe(2000);
        ((string?)plan["seccompProfileSha256"]).ShouldBe(SeccompHash(), "the hash of seccomp/runner.json as sent: compact JSON");
        plan["id"].ShouldBeNull("a dry run creates no run");
    }

    [Fact]
    public async Task Delete_RunningRun_KillsItsContainer_AndRecordsCancelled()
    {
        using var client = _factory.CreateClient();
        var id = (string)(await (await client.PostRunAsync(new { language = "python", code = "import time; print('up', flush=True); time.sleep(60)", @async = true })).JsonAsync())["id"]!;
        (await client.WaitForStateAsync(id, "running", TimeSpan.FromSeconds(20)))["state"]!.ToString().ShouldBe("running");
        await WaitUntilAsync(async () => (await DockerProbe.ContainersOfRunAsync(id)).Length > 0, TimeSpan.FromSeconds(20));

        using var response = await client.DeleteAsync($"/v1/runs/{id}", TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var view = await response.JsonAsync();
        ((string?)view["result"]!["status"]).ShouldBe("cancelled");
        (await DockerProbe.ContainersOfRunAsync(id)).ShouldBeEmpty("the container must be gone once DELETE answers");
        (await client.DeleteAsync($"/v1/runs/{id}", TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Delete_RunningWasmRun_InterruptsTheEngine()
    {
        using var client = _factory.CreateClient();
        var id = (string)(await (await client.PostRunAsync(new { language = "python", backend = "wasm", code = "print('up', flush=True)\nwhile True: pass", @async = true })).JsonAsync())["id"]!;
        await client.WaitForStateAsync(id, "running", TimeSpan.FromSeconds(20));
        await Task.Delay(300, TestContext.Current.CancellationToken);

        using var response = await client.DeleteAsync($"/v1/runs/{id}", TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var result = (await response.JsonAsync())["result"]!;
        ((string?)result["status"]).ShouldBe("cancelled");
        ((string?)result["backend"]).ShouldBe("wasm");
    }

    [Fact]
    public async Task Get_UnknownRun_Is404Problem()
    {
        using var client = _factory.CreateClient();

        using var response = await client.GetAsync("/v1/runs/run_nope", TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        ((string?)(await response.JsonAsync())["code"]).ShouldBe("run_not_found");
    }

    [Fact]
    public async Task IdempotencyKey_SameRequest_ReturnsTheSameRunWithoutRunningTwice()
    {
        using var client = _factory.CreateClient();
        var key = Guid.NewGuid().ToString();
        var body = new { language = "python", code = "import random; print(random.random())" };

        using var first = await client.PostRunAsync(body, key);
        using var second = await client.PostRunAsync(body, key);

        var a = await first.JsonAsync();
        var b = await second.JsonAsync();
        ((string?)b["id"]).ShouldBe((string?)a["id"]);
        ((string?)b["result"]!["stdout"]).ShouldBe((string?)a["result"]!["stdout"], "a second execution would print another random number");
        second.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        first.Headers.Contains("Idempotent-Replayed").ShouldBeFalse();

        using var different = await client.PostRunAsync(new { language = "python", code = "print('other')" }, key);
        different.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        ((string?)(await different.JsonAsync())["code"]).ShouldBe("idempotency_key_reused");
    }

    [Fact]
    public async Task Events_DeliverOutputChunksBeforeTheRunEnds_ThenTheResult()
    {
        using var client = _factory.CreateClient();
        const string Code = "import time\nprint('tick', flush=True)\ntime.sleep(3)\nprint('tock', flush=True)";
        var id = (string)(await (await client.PostRunAsync(new { language = "python", code = Code, @async = true })).JsonAsync())["id"]!;

        using var stream = await client.GetStreamAsync($"/v1/runs/{id}/events", TestContext.Current.CancellationToken);
        using var reader = new StreamReader(stream);
        var events = new List<(string Kind, JsonNode Data, string StateWhenSeen)>();
        string? kind = null;
        while (await reader.ReadLineAsync(TestContext.Current.CancellationToken) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                kind = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                // What GET says at the moment the chunk arrives: proof that it came while the run was still going.
                var state = (string)(await (await client.GetAsync($"/v1/runs/{id}", TestContext.Current.CancellationToken)).JsonAsync())["state"]!;
                events.Add((kind!, JsonNode.Parse(line["data: ".Length..])!, state));
                if (kind == "result")
                {
                    break;
                }
            }
        }

        // Python runs unbuffered (-u), so "tick" and its newline may be two writes and two events: what matters is
        // that the whole first line arrived while the run was still going.
        var streamed = "";
        var tickSeenWhile = "";
        foreach (var e in events.Where(e => e.Kind == "stdout"))
        {
            streamed += (string?)e.Data["text"];
            if (streamed.StartsWith("tick\n", StringComparison.Ordinal))
            {
                tickSeenWhile = e.StateWhenSeen;
                break;
            }
        }

        tickSeenWhile.ShouldBe("running");
        events.Last().Kind.ShouldBe("result");
        ((string?)events.Last().Data["result"]!["stdout"]).ShouldBe("tick\ntock\n");
        string.Concat(events.Where(e => e.Kind == "stdout").Select(e => (string?)e.Data["text"])).ShouldBe("tick\ntock\n");
    }

    private static string SeccompHash()
    {
        using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Join(Sandbox.Testing.RepositoryRoot.Path, "seccomp", "runner.json")));
        using var buffer = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            document.RootElement.WriteTo(writer);
        }

        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(buffer.ToArray()));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (!await condition())
        {
            DateTimeOffset.UtcNow.ShouldBeLessThan(deadline, "the condition did not hold in time");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
