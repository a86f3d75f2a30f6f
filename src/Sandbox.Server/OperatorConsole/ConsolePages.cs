using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Sandbox.Server.OperatorConsole;

/// <summary>The console's frame (head, navigation, sign-out) and its pages that need no store: sign-in and refusals.</summary>
internal static class ConsolePages
{
    public static IResult Page(string title, ConsoleSession? session, ConsoleHtml body, int status = StatusCodes.Status200OK, int pending = -1)
    {
        var html = new ConsoleHtml()
            .Raw("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Raw("<link rel=\"icon\" href=\"data:,\"><title>").Text(title).Raw(" · Sandbox console</title>")
            .Raw("<link rel=\"stylesheet\" href=\"/console/static/console.css\"><script src=\"/console/static/console.js\" defer></script></head><body>")
            .Raw("<header><span class=\"brand\">Sandbox console</span>");
        if (session is not null)
        {
            html.Raw("<nav aria-label=\"Console\"><a href=\"/console/approvals\">Approvals <span id=\"pending-count\" class=\"badge\" data-src=\"/console/approvals/count\" aria-live=\"polite\" title=\"pending approvals\">")
                .Text(pending < 0 ? "" : pending.ToString(CultureInfo.InvariantCulture)).Raw("</span></a> <a href=\"/console/runs\">Runs</a> <a href=\"/console/agents\">Agents</a> <a href=\"/console/budgets\">Budgets</a> <a href=\"/console/audit\">Audit</a></nav>")
                .Raw("<span class=\"who\">Signed in as <strong id=\"operator\">").Text(session.Operator).Raw("</strong></span>")
                .Raw("<form method=\"post\" action=\"/console/signout\" class=\"signout\">").Csrf(session).Raw("<button type=\"submit\">Sign out</button></form>");
        }

        html.Raw("</header><main><h1>").Text(title).Raw("</h1>").Raw(body.ToString()).Raw("</main></body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8", statusCode: status);
    }

    public static IResult SignIn(string? error, string? operatorName, int status = StatusCodes.Status200OK)
    {
        var body = new ConsoleHtml();
        if (error is not null)
        {
            body.Raw("<p class=\"error\" role=\"alert\">").Text(error).Raw("</p>");
        }

        body.Raw("<form method=\"post\" action=\"/console/signin\" class=\"stack\">")
            .Raw("<label for=\"key\">Admin key</label><input id=\"key\" name=\"key\" type=\"password\" autocomplete=\"current-password\" required>")
            .Raw("<label for=\"operator\">Your name (recorded with your decisions)</label><input id=\"operator\" name=\"operator\" type=\"text\" maxlength=\"64\" autocomplete=\"username\" required value=\"").Text(operatorName).Raw("\">")
            .Raw("<button type=\"submit\">Sign in</button></form>");
        return Page("Sign in", null, body, status);
    }

    public static IResult Refused(string title, string detail, ConsoleSession? session, int status) =>
        Page(title, session, new ConsoleHtml().Raw("<p class=\"error\" role=\"alert\">").Text(detail).Raw("</p><p><a href=\"/console\">Back to the console</a></p>"), status);

    public static string Time(DateTimeOffset? time) => time?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "";
}
