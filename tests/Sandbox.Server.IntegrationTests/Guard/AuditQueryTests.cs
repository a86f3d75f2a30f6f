using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Server.IntegrationTests.Http;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Guard;

/// <summary><c>GET /admin/v1/audit</c> pages, and every bad query parameter is a problem naming it.</summary>
[Trait("Category", "Integration")]
public sealed class AuditQueryTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    // Each of these was the framework's bare "Bad Request" (typed binding failed before the handler), or a 10 000-record page.
    [Theory]
    [InlineData("after=abc", "after")]
    [InlineData("after=-1", "after")]
    [InlineData("after=99999999999999999999", "after")]
    [InlineData("after=1.5", "after")]
    [InlineData("limit=abc", "limit")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=1e3", "limit")]
    [InlineData("limit=1&limit=2", "limit")]
    [InlineData("from=yesterday", "from")]
    public async Task Query_BadParameter_IsProblemJsonNamingIt(string query, string field)
    {
        await using var factory = new SandboxApiFactory();
        using var admin = factory.AdminClient();

        using var response = await admin.GetAsync("/admin/v1/audit?" + query, Token);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        var problem = await response.JsonAsync();
        problem.Code().ShouldBe("invalid_request");
        problem.ErrorFields().ShouldBe([field]);
    }

    [Fact]
    public async Task Query_LongLog_ReturnsAtMostOnePageAndLinksTheNext()
    {
        await using var factory = new SandboxApiFactory();
        var store = factory.Services.GetRequiredService<Sandbox.Server.Hosting.GuardHost>().Store;
        var before = (await store.AuditHeadAsync(Token)).Sequence;
        for (var i = 0; i < AuditQuery.MaxPageSize + 200; i++)
        {
            await store.AppendAsync(new AuditEntry { Kind = "note", Data = new JsonObject { ["i"] = i } }, Token);
        }

        var head = (await store.AuditHeadAsync(Token)).Sequence;
        using var admin = factory.AdminClient();

        using var first = await admin.GetAsync("/admin/v1/audit?kind=note", Token);
        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await first.JsonAsync()).AsArray().Count.ShouldBe(AuditQuery.MaxPageSize);
        var link = first.Headers.GetValues("Link").ShouldHaveSingleItem();
        link.ShouldEndWith("rel=\"next\"");
        var next = link[1..link.IndexOf('>', StringComparison.Ordinal)];
        next.ShouldContain("kind=note");
        next.ShouldContain($"after={before + AuditQuery.MaxPageSize}");

        using var second = await admin.GetAsync(next, Token);
        var rest = (await second.JsonAsync()).AsArray();
        rest.Count.ShouldBe(200);
        ((long)rest[^1]!["sequence"]!).ShouldBe(head);
        second.Headers.Contains("Link").ShouldBeFalse();
    }
}
