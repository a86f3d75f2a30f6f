using System.Net;
using System.Text.Json.Nodes;
using Sandbox.Guard.Agents;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>Languages, profiles, the tool schema, health, readiness, metrics and the OpenAPI document.</summary>
public sealed class CatalogEndpointsTests : IClassFixture<SandboxApiFactory>
{
    private readonly SandboxApiFactory _factory;

    public CatalogEndpointsTests(SandboxApiFactory factory) => _factory = factory;

    [Fact]
    public async Task Languages_ListEachWithDefaultProfileAndLimits()
    {
        using var client = _factory.CreateClient();

        var languages = (await (await client.GetAsync("/v1/languages", TestContext.Current.CancellationToken)).JsonAsync()).AsArray();

        var python = languages.Single(l => (string?)l!["language"] == "python")!;
        ((string?)python["defaultProfile"]).ShouldBe("python");
        ((long?)python["limits"]!["wallTimeMs"]).ShouldBe(10000);
        python["profiles"]!.AsArray().Select(p => (string?)p).ShouldContain("python-wasm");
        languages.Select(l => (string?)l!["language"]).ShouldBe(["bash", "c", "csharp", "javascript", "python", "wasm"]);
    }

    /// <summary>The packages each image has, listed by the image itself at build time (images/*/packages.sh), are in the catalog and the tool description.</summary>
    [Fact]
    public async Task Languages_ListEachImagesPreinstalledPackages_AndTheToolDescriptionNamesThem()
    {
        using var client = _factory.CreateClient();

        var languages = (await (await client.GetAsync("/v1/languages", TestContext.Current.CancellationToken)).JsonAsync()).AsArray();
        var tools = (await (await client.GetAsync("/v1/tools", TestContext.Current.CancellationToken)).JsonAsync()).AsArray();

        var python = languages.Single(l => (string?)l!["language"] == "python")!["packages"]!.AsArray();
        python.Select(p => (string?)p!["name"]).ShouldContain("numpy");
        python.Select(p => (string?)p!["name"]).ShouldContain("pandas");
        python.Select(p => (string?)p!["name"]).ShouldContain("matplotlib");
        python.ShouldAllBe(p => !string.IsNullOrEmpty((string?)p!["version"]));
        languages.Single(l => (string?)l!["language"] == "bash")!["packages"]!.AsArray().Select(p => (string?)p!["name"]).ShouldContain("jq");
        var description = (string)tools.Single()!["function"]!["description"]!;
        description.ShouldContain("nothing can be installed");
        description.ShouldContain("numpy " + (string?)python.Single(p => (string?)p!["name"] == "numpy")!["version"]);
    }

    [Fact]
    public async Task Profiles_ListAndShowOne_UnknownIs404()
    {
        using var client = _factory.CreateClient();

        var all = (await (await client.GetAsync("/v1/profiles", TestContext.Current.CancellationToken)).JsonAsync()).AsArray();
        var one = await (await client.GetAsync("/v1/profiles/python-gvisor", TestContext.Current.CancellationToken)).JsonAsync();
        using var missing = await client.GetAsync("/v1/profiles/nope", TestContext.Current.CancellationToken);

        all.Select(p => (string?)p!["name"]).ShouldContain("python-gvisor");
        ((string?)one["runtime"]).ShouldBe("runsc");
        missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        ((string?)(await missing.JsonAsync())["code"]).ShouldBe("profile_not_found");
    }

    [Fact]
    public async Task Tools_IsAFunctionSchemaListingLanguagesAndStatuses()
    {
        using var client = _factory.CreateClient();

        var tools = (await (await client.GetAsync("/v1/tools", TestContext.Current.CancellationToken)).JsonAsync()).AsArray();

        var function = tools.Single()!["function"]!;
        ((string?)function["name"]).ShouldBe("run_code");
        var description = (string)function["description"]!;
        description.ShouldContain("wall time 10 s");
        description.ShouldContain("memory_limit");
        function["parameters"]!["properties"]!["language"]!["enum"]!.AsArray().Select(l => (string?)l).ShouldContain("javascript");
        function["parameters"]!["required"]!.AsArray().Select(r => (string?)r).ShouldBe(["language", "code"]);
    }

    /// <summary>The catalog describes this host's images, commands and limits: it takes a key like every other /v1 route.</summary>
    [Theory]
    [InlineData("/v1/languages")]
    [InlineData("/v1/profiles")]
    [InlineData("/v1/profiles/python")]
    [InlineData("/v1/tools")]
    [InlineData("/v1/tools?format=mcp")]
    public async Task Catalog_WithoutAKey_Is401MissingKey(string path)
    {
        using var client = _factory.CreateClient(key: null);

        using var response = await client.GetAsync(path, TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        ((string?)(await response.JsonAsync())["code"]).ShouldBe("missing_key");
    }

    /// <summary>A key allowed only python is offered python and nothing else, in every catalog route (as the MCP tool list does).</summary>
    [Fact]
    public async Task Catalog_NarrowKey_ShowsOnlyWhatItMayUse()
    {
        var narrow = await _factory.CreateAgentAsync(new AgentSpec { Name = "catalog-python-only-" + Guid.NewGuid().ToString("N")[..8], Profiles = ["python"] });
        using var client = _factory.CreateClient(narrow.Key);

        var languages = (await (await client.GetAsync("/v1/languages", TestContext.Current.CancellationToken)).JsonAsync()).AsArray();
        var profiles = (await (await client.GetAsync("/v1/profiles", TestContext.Current.CancellationToken)).JsonAsync()).AsArray();
        using var other = await client.GetAsync("/v1/profiles/bash", TestContext.Current.CancellationToken);
        var tool = (await (await client.GetAsync("/v1/tools", TestContext.Current.CancellationToken)).JsonAsync()).AsArray().Single()!["function"]!;

        languages.Select(l => (string?)l!["language"]).ShouldBe(["python"]);
        languages[0]!["profiles"]!.AsArray().Select(p => (string?)p).ShouldBe(["python"]);
        profiles.Select(p => (string?)p!["name"]).ShouldBe(["python"]);
        other.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        ((string?)(await other.JsonAsync())["code"]).ShouldBe("profile_not_found");
        tool["parameters"]!["properties"]!["language"]!["enum"]!.AsArray().Select(l => (string?)l).ShouldBe(["python"]);
        ((string)tool["description"]!).ShouldNotContain("- javascript");
    }

    [Fact]
    public async Task Tools_FormatAnthropic_IsNameDescriptionInputSchema()
    {
        using var client = _factory.CreateClient();

        var tool = (await (await client.GetAsync("/v1/tools?format=anthropic", TestContext.Current.CancellationToken)).JsonAsync()).AsArray().Single()!.AsObject();

        tool.Select(p => p.Key).ShouldBe(["name", "description", "input_schema"]);
        ((string?)tool["name"]).ShouldBe("run_code");
        ((string?)tool["input_schema"]!["type"]).ShouldBe("object");
        tool["input_schema"]!["required"]!.AsArray().Select(r => (string?)r).ShouldBe(["language", "code"]);
    }

    [Fact]
    public async Task Tools_FormatMcp_IsTheToolAsSandboxMcpListsIt()
    {
        using var client = _factory.CreateClient();

        var tool = (await (await client.GetAsync("/v1/tools?format=mcp", TestContext.Current.CancellationToken)).JsonAsync()).AsArray().Single()!;

        ((string?)tool["name"]).ShouldBe("run_code");
        ((string?)tool["inputSchema"]!["type"]).ShouldBe("object");
        tool["outputSchema"]!["properties"]!["stdout"].ShouldNotBeNull();
        ((bool?)tool["annotations"]!["openWorldHint"]).ShouldBe(false);
    }

    [Fact]
    public async Task Tools_FormatOpenAi_IsTheDefault()
    {
        using var client = _factory.CreateClient();

        var byDefault = await (await client.GetAsync("/v1/tools", TestContext.Current.CancellationToken)).Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var openai = await (await client.GetAsync("/v1/tools?format=openai", TestContext.Current.CancellationToken)).Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        openai.ShouldBe(byDefault);
    }

    [Theory]
    [InlineData("gemini")]
    [InlineData("OpenAI")]
    [InlineData("")]
    public async Task Tools_UnknownFormat_Is400NamingFormat(string format)
    {
        using var client = _factory.CreateClient();

        using var response = await client.GetAsync("/v1/tools?format=" + Uri.EscapeDataString(format), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var problem = await response.JsonAsync();
        ((string?)problem["code"]).ShouldBe("invalid_request");
        ((string?)problem["errors"]![0]!["field"]).ShouldBe("format");
        ((string?)problem["errors"]![0]!["message"]).ShouldNotBeNull().ShouldContain("openai, anthropic, mcp");
    }

    [Fact]
    public async Task Healthz_And_Readyz_ReportEachCheck()
    {
        using var client = _factory.CreateClient();

        using var health = await client.GetAsync("/healthz", TestContext.Current.CancellationToken);
        using var ready = await client.GetAsync("/readyz", TestContext.Current.CancellationToken);

        health.StatusCode.ShouldBe(HttpStatusCode.OK);
        var report = await ready.JsonAsync();
        var checks = report["checks"]!.AsArray().Select(c => (string?)c!["name"]).ToList();
        checks.ShouldContain("docker");
        checks.ShouldContain("image sandbox/python:latest");
        checks.ShouldContain("wasm guest python-wasm");
        ready.StatusCode.ShouldBe((bool)report["ready"]! ? HttpStatusCode.OK : HttpStatusCode.ServiceUnavailable);
        ((bool?)report["ready"]).ShouldBe(true, report.ToJsonString());
    }

    [Fact]
    public async Task Readyz_WithAProfileWhoseImageIsMissing_Is503AndNamesIt()
    {
        var profiles = Path.Join(Path.GetTempPath(), "sandbox-readyz-" + Guid.NewGuid().ToString("N") + ".json");
        var python = JsonNode.Parse(await File.ReadAllTextAsync(Path.Join(SandboxApiFactory.ProfilesPath, "python", "profile.json"), TestContext.Current.CancellationToken))!;
        python["profiles"]!["python"]!["image"] = "sandbox/does-not-exist:latest";
        await File.WriteAllTextAsync(profiles, python.ToJsonString(), TestContext.Current.CancellationToken);
        await using var factory = new SandboxApiFactory(new Dictionary<string, string> { ["Sandbox:Profiles"] = profiles });
        using var client = factory.CreateClient();

        using var ready = await client.GetAsync("/readyz", TestContext.Current.CancellationToken);

        ready.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        var missing = (await ready.JsonAsync())["checks"]!.AsArray().Single(c => (string?)c!["name"] == "image sandbox/does-not-exist:latest")!;
        ((bool?)missing["ok"]).ShouldBe(false);
        ((string)missing["detail"]!).ShouldContain("make images");
    }

    [Fact]
    public async Task Metrics_CountRunsByStatusAndBackend()
    {
        using var client = _factory.CreateClient();
        (await client.PostRunAsync(new { language = "python", code = "raise SystemExit(3)" })).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var response = await client.GetAsync("/metrics", TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        text.ShouldContain("sandbox_runs_total{status=\"runtime_error\",backend=\"docker\"}");
        text.ShouldContain("# TYPE sandbox_run_duration_seconds histogram");
        text.ShouldContain("sandbox_queue_depth");
        text.ShouldContain("sandbox_concurrent_runs");
    }

    /// <summary>
    /// Prometheus's own linter on what a scraper gets, after runs that fill every family (an ok run, a runtime error, a
    /// refusal): exit 0 and nothing to say. A name, type, unit or help text it would flag fails here, not in a scraper.
    /// </summary>
    [Fact]
    public async Task Metrics_PassPromtoolCheckMetrics()
    {
        using var client = _factory.CreateClient();
        (await client.PostRunAsync(new { language = "bash", code = "echo ok" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.PostRunAsync(new { language = "bash", code = "exit 3" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.PostRunAsync(new { language = "no-such-language", code = "x" })).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        using var response = await client.GetAsync("/metrics", TestContext.Current.CancellationToken);
        var file = Path.Join(Path.GetTempPath(), $"sandbox-metrics-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(file, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        try
        {
            // promtool is Debian's `prometheus` package, installed by eng/docker-up.sh; it reads the exposition on stdin.
            var lint = await ChildProcess.RunAsync("bash", ["-c", "promtool check metrics < \"$1\"", "promtool", file], Path.GetTempPath());
            lint.Exit.ShouldBe(0, lint.Stdout + lint.Stderr);
            (lint.Stdout + lint.Stderr).Trim().ShouldBeEmpty();
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task OpenApi_DescribesEveryEndpoint()
    {
        using var client = _factory.CreateClient();

        var document = await (await client.GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken)).JsonAsync();

        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToList();
        paths.ShouldBe(
            [
                "/v1/runs", "/v1/runs/{id}", "/v1/runs/{id}/events", "/v1/languages", "/v1/profiles", "/v1/profiles/{name}", "/v1/tools", "/healthz", "/readyz", "/metrics",
                "/v1/tokens", "/v1/me",
                "/v1/runs/{id}/artifacts/{path}",
                "/v1/sessions", "/v1/sessions/{id}", "/v1/sessions/{id}/runs",
                "/admin/v1/agents", "/admin/v1/agents/{id}", "/admin/v1/agents/{id}/rotate", "/admin/v1/agents/{id}/revoke", "/admin/v1/agents/{id}/hold",
                "/admin/v1/approvals", "/admin/v1/approvals/{id}/approve", "/admin/v1/approvals/{id}/deny", "/admin/v1/runs/{id}/replay", "/admin/v1/audit", "/admin/v1/audit/verify",
            ],
            ignoreOrder: true);
        document["paths"]!["/v1/runs"]!["post"]!["requestBody"]!["content"]!["application/json"].ShouldNotBeNull();
    }

    [Fact]
    public async Task OpenApi_NumbersAreNumbersOnly_AsTheServerAccepts()
    {
        using var client = _factory.CreateClient();
        var document = await (await client.GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken)).JsonAsync();

        // The server binds strictly ("100" for a limit is refused), so the document must not offer numeric strings.
        var numeric = new List<string>();
        foreach (var (name, schema) in document["components"]!["schemas"]!.AsObject())
        {
            foreach (var (property, definition) in schema!["properties"]?.AsObject() ?? [])
            {
                var types = definition!["type"] is System.Text.Json.Nodes.JsonArray array ? array.Select(t => (string?)t).ToList() : [(string?)definition["type"]];
                if (types.Contains("integer") || types.Contains("number"))
                {
                    numeric.Add($"{name}.{property}");
                    types.ShouldNotContain("string", $"{name}.{property}");
                    definition["pattern"].ShouldBeNull($"{name}.{property}");
                }
            }
        }

        numeric.ShouldContain("LimitOverrides.wallTimeMs");
    }
}
