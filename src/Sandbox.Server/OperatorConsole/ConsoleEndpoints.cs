using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Core.Text;
using Sandbox.Guard;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Policy;
using Sandbox.Server.Http;
using Sandbox.Server.Runs;

namespace Sandbox.Server.OperatorConsole;

/// <summary>
/// <c>/console</c>: the operator's pages in a browser, behind the admin key. Signing in with the key gives a session
/// cookie (<see cref="ConsoleSessions"/>); every state-changing form carries the session's CSRF token and must come from
/// this origin. The pages act through the same <see cref="AgentAdmin"/> and <see cref="RunLifecycle"/> calls as
/// <c>/admin/v1</c>, never the store.
/// </summary>
internal static class ConsoleEndpoints
{
    private static readonly Dictionary<string, string> s_static = new(StringComparer.Ordinal)
    {
        ["console.css"] = "text/css; charset=utf-8",
        ["console.js"] = "text/javascript; charset=utf-8",
    };

    public static void MapConsoleEndpoints(this IEndpointRouteBuilder app)
    {
        var console = app.MapGroup("/console").ExcludeFromDescription().AddEndpointFilter(static async (context, next) =>
        {
            ConsoleSecurity.AddHeaders(context.HttpContext.Response, authenticated: !context.HttpContext.Request.Path.StartsWithSegments("/console/static"));
            return await next(context);
        });

        console.MapGet("/static/{name}", Static);
        console.MapGet("/signin", (HttpContext c) => Session(c) is not null ? Results.Redirect("/console/approvals") : ConsolePages.SignIn(null, null));
        console.MapPost("/signin", (Page)SignInAsync);
        console.MapPost("/signout", (Page)(c => WithForm(c, static (context, session, _) =>
        {
            context.RequestServices.GetRequiredService<ConsoleSessions>().End(session);
            ConsoleLog.SignedOut(ConsoleLog.For(context), session.Operator);
            ConsoleSecurity.ClearCookie(context);
            return Task.FromResult(Results.Redirect("/console/signin"));
        })));
        console.MapGet("", (HttpContext c) => Results.Redirect("/console/approvals"));
        console.MapGet("/approvals", (Page)(c => WithSession(c, ApprovalPages.ListAsync)));
        console.MapGet("/approvals/count", (Page)(c => WithSession(c, ApprovalPages.CountAsync)));
        console.MapGet("/approvals/{id}", (HttpContext c, string id) => WithSession(c, (context, session) => ApprovalPages.ShowAsync(context, session, id)));
        console.MapPost("/approvals/{id}/approve", (HttpContext c, string id) => WithForm(c, (context, session, form) => ApprovalPages.DecideAsync(context, session, form, id, approve: true)));
        console.MapGet("/agents", (Page)(c => WithSession(c, AgentPages.ListAsync)));
        console.MapGet("/agents/new", (Page)(c => WithSession(c, AgentCreation.FormAsync)));
        console.MapPost("/agents/new", (Page)(c => WithForm(c, AgentCreation.SubmitAsync)));
        console.MapGet("/agents/{id}/{action}", (HttpContext c, string id, string action) => WithSession(c, (context, session) => AgentPages.ConfirmAsync(context, session, id, action)));
        console.MapPost("/agents/{id}/{action}", (HttpContext c, string id, string action) => WithForm(c, (context, session, form) => AgentPages.ActAsync(context, session, form, id, action)));
        console.MapGet("/runs", (Page)(c => WithSession(c, RunPages.ListAsync)));
        console.MapGet("/runs/list", (Page)(c => WithSession(c, RunPages.ListJsonAsync)));
        console.MapGet("/runs/{id}", (HttpContext c, string id) => WithSession(c, (context, session) => RunPages.ShowAsync(context, session, id)));
        console.MapGet("/runs/{id}/events", (HttpContext c, string id) => Session(c) is { } session ? RunPages.EventsAsync(c, session, id) : Unauthorized(c));
        console.MapGet("/runs/{id}/artifacts/{**path}", (HttpContext c, string id, string path) => WithSession(c, (context, session) => RunPages.ArtifactAsync(context, session, id, path)));
        console.MapPost("/runs/{id}/cancel", (HttpContext c, string id) => WithForm(c, (context, session, _) => RunPages.CancelAsync(context, session, id)));
        console.MapGet("/budgets", (Page)(c => WithSession(c, BudgetPages.ShowAsync)));
        console.MapGet("/audit", (Page)(c => WithSession(c, AuditPages.ListAsync)));
        console.MapGet("/audit/verify", (Page)(c => WithSession(c, AuditPages.VerifyAsync)));
        console.MapGet("/audit/export", (HttpContext c) => Session(c) is { } session ? AuditPages.ExportAsync(c, session) : Unauthorized(c));
        console.MapPost("/approvals/{id}/deny", (HttpContext c, string id) => WithForm(c, (context, session, form) => ApprovalPages.DecideAsync(context, session, form, id, approve: false)));
    }

    /// <summary>A handler taking only the request: typed so the framework writes its result (a bare lambda would be a RequestDelegate).</summary>
    private delegate Task<IResult> Page(HttpContext context);

    /// <summary>The session the request's cookie names, or null.</summary>
    private static ConsoleSession? Session(HttpContext context) =>
        context.RequestServices.GetRequiredService<ConsoleSessions>().Find(context.Request.Cookies[ConsoleSecurity.CookieName]);

    /// <summary>A stream asked for without a session: 401, no page (the script stops; a reload shows the sign-in).</summary>
    private static Task Unauthorized(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        return Task.CompletedTask;
    }

    private static Task<IResult> WithSession(HttpContext context, Func<HttpContext, ConsoleSession, Task<IResult>> page) =>
        Session(context) is { } session ? page(context, session) : Task.FromResult(Results.Redirect("/console/signin"));

    /// <summary>A state-changing form: refused (403) without a live session, from another site, or without the session's CSRF token.</summary>
    private static async Task<IResult> WithForm(HttpContext context, Func<HttpContext, ConsoleSession, IFormCollection, Task<IResult>> action)
    {
        if (ConsoleSecurity.CrossSite(context.Request) is { } crossSite)
        {
            return ConsolePages.Refused("Refused", crossSite, null, StatusCodes.Status403Forbidden);
        }

        if (Session(context) is not { } session)
        {
            return ConsolePages.Refused("Signed out", "your session has ended; sign in again", null, StatusCodes.Status403Forbidden);
        }

        if (!context.Request.HasFormContentType)
        {
            return ConsolePages.Refused("Refused", "send the console's own form", session, StatusCodes.Status403Forbidden);
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (!ConsoleSessions.IsCsrfToken(session, form[ConsoleSecurity.CsrfField].FirstOrDefault()))
        {
            return ConsolePages.Refused("Refused", "the form's CSRF token is missing or wrong; reload the page and try again", session, StatusCodes.Status403Forbidden);
        }

        return await action(context, session, form);
    }

    private static async Task<IResult> SignInAsync(HttpContext context)
    {
        if (ConsoleSecurity.CrossSite(context.Request) is { } crossSite)
        {
            return ConsolePages.Refused("Refused", crossSite, null, StatusCodes.Status403Forbidden);
        }

        var options = context.RequestServices.GetRequiredService<GuardOptions>();
        if (options.AdminKey is not { } adminKey)
        {
            return ConsolePages.Refused("The console is disabled", "no admin key is configured; set Sandbox:Guard:AdminKey (at least 32 characters) to enable it", null, StatusCodes.Status403Forbidden);
        }

        if (!context.Request.HasFormContentType)
        {
            return ConsolePages.SignIn("send the sign-in form", null, StatusCodes.Status400BadRequest);
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var presented = form["key"].FirstOrDefault() ?? "";
        var name = (form["operator"].FirstOrDefault() ?? "").Trim();
        if (!AdminEndpoints.IsAdminKey(presented, adminKey))
        {
            // Counted through the guard's per-minute window, as a wrong key at /admin/v1 is.
            var guard = context.RequestServices.GetRequiredService<RunGuard>();
            await guard.Keys.RecordAuthFailureAsync("admin_refused", "POST /console/signin", "the admin key is wrong", context.RequestAborted);
            return ConsolePages.SignIn("the admin key is wrong", name, StatusCodes.Status401Unauthorized);
        }

        if (name.Length is 0 or > 64 || DisplayText.Escape(name, keepNewlinesAndTabs: false) != name)
        {
            return ConsolePages.SignIn("operator: give your name, 1 to 64 characters with no control or invisible characters", null, StatusCodes.Status400BadRequest);
        }

        var session = context.RequestServices.GetRequiredService<ConsoleSessions>().Create(name);
        ConsoleSecurity.SetCookie(context, session);
        ConsoleLog.SignedIn(ConsoleLog.For(context), name);
        return Results.Redirect("/console/approvals");
    }

    private static IResult Static(string name)
    {
        if (!s_static.TryGetValue(name, out var type) || typeof(ConsoleEndpoints).Assembly.GetManifestResourceStream("console/" + name) is not { } stream)
        {
            return Results.NotFound();
        }

        return Results.Stream(stream, type);
    }
}
