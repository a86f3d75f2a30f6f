using Microsoft.AspNetCore.Http;

namespace Sandbox.Server.OperatorConsole;

/// <summary>The console's browser-facing hardening, in one place: response headers, the session cookie and the cross-site checks.</summary>
internal static class ConsoleSecurity
{
    public const string CookieName = "sandbox-console";
    public const string CsrfField = "csrf";

    /// <summary>
    /// Nothing loads but this origin's own files: no inline script or style (so injected markup cannot run), no
    /// plugins, no framing, forms post only here, and no &lt;base&gt; to redirect relative URLs.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>Every console response, static files included.</summary>
    public static void AddHeaders(HttpResponse response, bool authenticated)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        // 1. No framing: no clickjacking of the approve button (CSP frame-ancestors for new browsers, this for old ones).
        headers.XFrameOptions = "DENY";
        // 2. No Referer: run and approval ids in URLs stay on this host.
        headers["Referrer-Policy"] = "no-referrer";
        // 3. No sniffing: a served file is what its type says, never script.
        headers.XContentTypeOptions = "nosniff";
        if (authenticated)
        {
            // 4. Pages showing code and keys are never kept by a browser or proxy cache.
            headers.CacheControl = "no-store";
            headers.Pragma = "no-cache";
        }
    }

    /// <summary>The session cookie: script cannot read it, it goes only to this site's own requests, and only over HTTPS when served over HTTPS.</summary>
    public static void SetCookie(HttpContext context, ConsoleSession session) =>
        context.Response.Cookies.Append(CookieName, session.Key, new CookieOptions
        {
            HttpOnly = true, // script (even injected script) cannot read it
            Secure = context.Request.IsHttps, // never sent in clear once the console is served over HTTPS
            SameSite = SameSiteMode.Strict, // no other site's link or form carries it
            Path = "/console",
            Expires = session.ExpiresAt,
        });

    public static void ClearCookie(HttpContext context) =>
        context.Response.Cookies.Delete(CookieName, new CookieOptions { HttpOnly = true, Secure = context.Request.IsHttps, SameSite = SameSiteMode.Strict, Path = "/console" });

    /// <summary>
    /// Why a state-changing request comes from another site, or null: a browser's <c>Sec-Fetch-Site</c> must be
    /// same-origin, and an <c>Origin</c> must be this host. Checked besides the token, so a leaked token alone does not
    /// let another site post.
    /// </summary>
    public static string? CrossSite(HttpRequest request)
    {
        var fetchSite = request.Headers["Sec-Fetch-Site"].ToString();
        if (fetchSite.Length > 0 && !string.Equals(fetchSite, "same-origin", StringComparison.OrdinalIgnoreCase))
        {
            return $"the browser says this form came from a {(fetchSite.Length > 20 ? "different" : fetchSite)} page, not this console";
        }

        var origin = request.Headers.Origin.ToString();
        if (origin == "null")
        {
            // Our own Referrer-Policy: no-referrer makes Chromium send "Origin: null" with our own forms, as a sandboxed
            // frame elsewhere would: only the browser's same-origin Sec-Fetch-Site tells the two apart.
            return string.Equals(fetchSite, "same-origin", StringComparison.OrdinalIgnoreCase) ? null : "the form came from an opaque origin";
        }

        if (origin.Length > 0 && !string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase))
        {
            return "the form came from another origin";
        }

        return null;
    }
}
