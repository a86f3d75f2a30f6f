using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>The key facts of <c>/openapi/v1.json</c> that generated clients rely on, so a regression shows here as well as in the linter.</summary>
public sealed class OpenApiDocumentTests : IClassFixture<SandboxApiFactory>
{
    private readonly SandboxApiFactory _factory;

    public OpenApiDocumentTests(SandboxApiFactory factory) => _factory = factory;

    private async Task<JsonNode> DocumentAsync()
    {
        using var client = _factory.CreateClient();
        return await (await client.GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken)).JsonAsync();
    }

    [Fact]
    public async Task Security_KeyedRoutesDeclareTheirBearerScheme_OpenRoutesNone()
    {
        var document = await DocumentAsync();

        var schemes = document["components"]!["securitySchemes"]!;
        ((string?)schemes["agentKey"]!["scheme"]).ShouldBe("bearer");
        ((string?)schemes["adminKey"]!["scheme"]).ShouldBe("bearer");
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var declared = operation!["security"]?.AsArray().SelectMany(r => r!.AsObject().Select(s => s.Key)).ToList();
                var expected = path.StartsWith("/admin/v1/", StringComparison.Ordinal) ? "adminKey"
                    : path.StartsWith("/v1/", StringComparison.Ordinal) ? "agentKey"
                    : null;
                if (expected is null)
                {
                    // Health, readiness and metrics answer without a key (the document says so with an empty list).
                    declared.ShouldBe([], $"{method} {path}");
                }
                else
                {
                    declared.ShouldBe([expected], $"{method} {path}");
                    operation["responses"]!["401"].ShouldNotBeNull($"{method} {path}");
                }
            }
        }
    }

    [Fact]
    public async Task CreateRun_200IsARunWithResultOrADryRun_202IsARun()
    {
        var document = await DocumentAsync();
        var responses = document["paths"]!["/v1/runs"]!["post"]!["responses"]!;

        var ok = responses["200"]!["content"]!["application/json"]!["schema"]!["oneOf"]!.AsArray().Select(s => (string?)s!["$ref"]).ToList();
        ok.ShouldBe(["#/components/schemas/RunView", "#/components/schemas/DryRunView"]);
        ((string?)responses["202"]!["content"]!["application/json"]!["schema"]!["$ref"]).ShouldBe("#/components/schemas/RunView");
        document["components"]!["schemas"]!["RunView"]!["properties"]!["result"].ShouldNotBeNull();
        document["components"]!["schemas"]!["DryRunView"]!["properties"]!["wouldRun"].ShouldNotBeNull();
        responses["202"]!["headers"]!["Location"].ShouldNotBeNull();
        responses["200"]!["headers"]!["Idempotent-Replayed"].ShouldNotBeNull();
        responses["429"]!["headers"]!["Retry-After"].ShouldNotBeNull();
        var parameters = document["paths"]!["/v1/runs"]!["post"]!["parameters"]!.AsArray().Select(p => (string?)p!["name"]).ToList();
        parameters.ShouldContain("Idempotency-Key");
        document["components"]!["schemas"]!["RunRequestBody"]!["required"]!.AsArray().Select(r => (string?)r).ShouldBe(["language", "code"], ignoreOrder: true);
    }

    [Fact]
    public async Task Problems_CarryCodeErrorsAndCap_OnEveryErrorResponse()
    {
        var document = await DocumentAsync();

        var problem = document["components"]!["schemas"]!["ProblemDetails"]!;
        problem["properties"]!["code"].ShouldNotBeNull();
        problem["properties"]!["errors"].ShouldNotBeNull();
        problem["properties"]!["cap"].ShouldNotBeNull();
        problem["required"]!.AsArray().Select(r => (string?)r).ShouldContain("code");
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                foreach (var (status, response) in operation!["responses"]!.AsObject().Where(r => r.Key[0] is '4' or '5' && !(path == "/readyz" && r.Key == "503")))
                {
                    ((string?)response!["content"]?["application/problem+json"]?["schema"]?["$ref"]).ShouldBe("#/components/schemas/ProblemDetails", $"{method} {path} {status}");
                }
            }
        }
    }

    [Fact]
    public async Task Events_AreTextEventStream_AndTakeLastEventId()
    {
        var document = await DocumentAsync();
        var events = document["paths"]!["/v1/runs/{id}/events"]!["get"]!;

        events["responses"]!["200"]!["content"]!["text/event-stream"].ShouldNotBeNull();
        events["parameters"]!.AsArray().Select(p => (string?)p!["name"]).ShouldContain("Last-Event-ID");
    }

    [Fact]
    public async Task AdminAudit_QueryParametersAreDescribed_PagingIsInteger()
    {
        var document = await DocumentAsync();
        var parameters = document["paths"]!["/admin/v1/audit"]!["get"]!["parameters"]!.AsArray().ToDictionary(p => (string)p!["name"]!, p => p!);

        parameters.Keys.ShouldBe(["agent", "run", "kind", "status", "from", "to", "after", "limit"], ignoreOrder: true);
        parameters.Values.ShouldAllBe(p => p["description"] != null);
        ((string?)parameters["after"]["schema"]!["type"]).ShouldBe("integer");
        ((string?)parameters["limit"]["schema"]!["type"]).ShouldBe("integer");
        document["paths"]!["/admin/v1/audit/verify"]!["get"]!["parameters"]!.AsArray().Select(p => (string?)p!["name"]).ShouldContain("anchor");
    }

    [Fact]
    public async Task Operations_EachHasASummaryAndAnExample()
    {
        var document = await DocumentAsync();

        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                ((string?)operation!["summary"]).ShouldNotBeNullOrEmpty($"{method} {path}");
                var examples = operation["responses"]!.AsObject()
                    .Where(r => r.Key[0] == '2')
                    .SelectMany(r => r.Value!["content"]?.AsObject().Select(c => c.Value!["example"]) ?? [])
                    .Where(e => e is not null);
                examples.ShouldNotBeEmpty($"{method} {path}");
            }
        }
    }

    [Fact]
    public async Task Schemas_DescribeEveryProperty()
    {
        var document = await DocumentAsync();

        // From the XML docs of the wire types (the framework's generator reads them), so code and document say the same.
        var undescribed = document["components"]!["schemas"]!.AsObject()
            .SelectMany(schema => (schema.Value!["properties"]?.AsObject() ?? [])
                .Where(p => p.Value!["description"] is null && (p.Value["oneOf"]?.AsArray().All(o => o!["description"] is null) ?? true))
                .Select(p => $"{schema.Key}.{p.Key}"));
        undescribed.ShouldBeEmpty();
    }

    [Fact]
    public async Task Responses_NameEveryPropertyTheServiceAlwaysWrites()
    {
        var document = await DocumentAsync();
        var result = document["components"]!["schemas"]!["RunResult"]!["required"]!.AsArray().Select(r => (string?)r).ToList();

        // stdout and stderr are always written, so a generated client types them as present.
        result.ShouldContain("stdout");
        result.ShouldContain("stderr");
        result.ShouldContain("usage");
    }
}
