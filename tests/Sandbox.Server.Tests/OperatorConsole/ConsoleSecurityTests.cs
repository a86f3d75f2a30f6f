using Microsoft.AspNetCore.Http;

namespace Sandbox.Server.OperatorConsole.Tests;

public sealed class ConsoleSecurityTests
{
    [Theory]
    [InlineData(null, null, true)]
    [InlineData("same-origin", null, true)]
    [InlineData("same-origin", "http://127.0.0.1:5000", true)]
    [InlineData(null, "http://127.0.0.1:5000", true)]
    [InlineData("cross-site", null, false)]
    [InlineData("same-site", null, false)]
    [InlineData("none", null, false)]
    [InlineData(null, "http://evil.example", false)]
    [InlineData(null, "null", false)]
    [InlineData("same-origin", "null", true)] // Chromium's own form under Referrer-Policy: no-referrer
    [InlineData("cross-site", "null", false)]
    [InlineData("same-origin", "https://127.0.0.1:5000", false)]
    public void CrossSite_AcceptsOnlyThisOrigin(string? fetchSite, string? origin, bool accepted)
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("127.0.0.1:5000");
        if (fetchSite is not null)
        {
            context.Request.Headers["Sec-Fetch-Site"] = fetchSite;
        }

        if (origin is not null)
        {
            context.Request.Headers.Origin = origin;
        }

        (ConsoleSecurity.CrossSite(context.Request) is null).ShouldBe(accepted);
    }

    [Fact]
    public void AddHeaders_Authenticated_SetsEveryHardeningHeader()
    {
        var context = new DefaultHttpContext();

        ConsoleSecurity.AddHeaders(context.Response, authenticated: true);

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy.ToString().ShouldBe(ConsoleSecurity.ContentSecurityPolicy);
        headers.ContentSecurityPolicy.ToString().ShouldNotContain("unsafe");
        headers.XFrameOptions.ToString().ShouldBe("DENY");
        headers["Referrer-Policy"].ToString().ShouldBe("no-referrer");
        headers.XContentTypeOptions.ToString().ShouldBe("nosniff");
        headers.CacheControl.ToString().ShouldBe("no-store");
    }

    [Fact]
    public void SetCookie_IsHttpOnlyStrictAndExpiring_AndSecureOverHttps()
    {
        var session = new ConsoleSession("secret-key", "csrf", "alice", new DateTimeOffset(2026, 12, 6, 17, 0, 0, TimeSpan.Zero));
        var plain = new DefaultHttpContext();
        var tls = new DefaultHttpContext();
        tls.Request.Scheme = "https";

        ConsoleSecurity.SetCookie(plain, session);
        ConsoleSecurity.SetCookie(tls, session);

        var cookie = plain.Response.Headers.SetCookie.ToString();
        cookie.ShouldStartWith("sandbox-console=secret-key;");
        cookie.ShouldContain("httponly", Case.Insensitive);
        cookie.ShouldContain("samesite=strict", Case.Insensitive);
        cookie.ShouldContain("path=/console");
        cookie.ShouldContain("expires=Sun, 06 Dec 2026 17:00:00 GMT");
        cookie.ShouldNotContain("secure", Case.Insensitive);
        tls.Response.Headers.SetCookie.ToString().ShouldContain("secure", Case.Insensitive);
    }
}
