using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Guard.Agents;
using Sandbox.Server.Http;
using Sandbox.Server.Runs;

namespace Sandbox.Server.OperatorConsole;

/// <summary>The agents pages: the list, and hold, release and revoke, each through a confirmation page.</summary>
internal static class AgentPages
{
    /// <summary>How long a revocation waits for the agent's runs to be confirmed dead, as <c>/admin/v1</c> does.</summary>
    private static readonly TimeSpan RevokeWait = TimeSpan.FromSeconds(5);

    private static readonly string[] s_actions = ["hold", "release", "revoke"];

    public static async Task<IResult> ListAsync(HttpContext context, ConsoleSession session)
    {
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var agents = await context.RequestServices.GetRequiredService<AgentAdmin>().ListAgentsAsync(context.RequestAborted);
        var body = new ConsoleHtml().Raw("<div class=\"scroll\"><table id=\"agents\"><caption>Agents</caption><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">State</th><th scope=\"col\">Actions</th><th scope=\"col\">Profiles</th><th scope=\"col\">Caps</th><th scope=\"col\">Expires</th></tr></thead><tbody>");
        foreach (var agent in agents.OrderBy(a => a.Name, StringComparer.Ordinal))
        {
            var view = AgentView.Of(agent, now);
            body.Raw("<tr>").Element("td", agent.Name).Element("td", view.State).Raw("<td>");
            if (agent.RevokedAt is null)
            {
                foreach (var action in s_actions.Where(a => a != (agent.UnderApproval ? "hold" : "release")))
                {
                    body.Raw("<a class=\"action\" href=\"/console/agents/").Text(Uri.EscapeDataString(agent.Id)).Raw("/").Raw(action).Raw("\">").Raw(action).Raw("<span class=\"visually-hidden\"> ").Text(agent.Name).Raw("</span></a> ");
                }
            }

            body.Raw("</td>").Element("td", string.Join(", ", agent.Profiles))
                .Element("td", string.Create(CultureInfo.InvariantCulture, $"{agent.RatePerMinute}/min, {agent.MaxConcurrentRuns} at once, {agent.DailyRuns} runs and {agent.DailyCpuSeconds:0.#} CPU s a day"))
                .Element("td", ConsolePages.Time(agent.ExpiresAt)).Raw("</tr>");
        }

        body.Raw("</tbody></table></div>");
        return ConsolePages.Page("Agents", session, body);
    }

    /// <summary>The confirmation step: what the action does, and a form that does it.</summary>
    public static async Task<IResult> ConfirmAsync(HttpContext context, ConsoleSession session, string id, string action)
    {
        if (!s_actions.Contains(action))
        {
            return ConsolePages.Refused("Not found", "no such action", session, StatusCodes.Status404NotFound);
        }

        if (await context.RequestServices.GetRequiredService<AgentAdmin>().FindAgentAsync(id, context.RequestAborted) is not { } agent)
        {
            return ConsolePages.Refused("Not found", $"no agent '{id}'", session, StatusCodes.Status404NotFound);
        }

        var what = action switch
        {
            "hold" => "Every run it asks for will wait for a human's approval.",
            "release" => "Its runs will no longer wait for approval.",
            _ => "Its keys and task tokens stop working at once and its queued and running runs are killed. This cannot be undone.",
        };
        var body = new ConsoleHtml().Raw("<p>").Text($"{Title(action)} agent {agent.Name}? {what}").Raw("</p>")
            .Raw("<form method=\"post\" class=\"stack\" action=\"/console/agents/").Text(Uri.EscapeDataString(agent.Id)).Raw("/").Raw(action).Raw("\">").Csrf(session)
            .Raw("<label for=\"reason\">Reason (kept in the audit log)</label><input id=\"reason\" name=\"reason\" type=\"text\" maxlength=\"500\"")
            .Raw(action == "release" ? ">" : " required>")
            .Raw("<button type=\"submit\" id=\"confirm\"").Raw(action == "revoke" ? " class=\"danger\"" : "").Raw(">").Raw(Title(action)).Raw("</button></form>")
            .Raw("<p><a href=\"/console/agents\">Cancel</a></p>");
        return ConsolePages.Page($"{Title(action)} {agent.Name}", session, body);
    }

    /// <summary>Hold, release or revoke: the same <see cref="AgentAdmin"/> and <see cref="RunLifecycle"/> calls as <c>/admin/v1/agents/{id}/…</c>.</summary>
    public static async Task<IResult> ActAsync(HttpContext context, ConsoleSession session, IFormCollection form, string id, string action)
    {
        if (!s_actions.Contains(action))
        {
            return ConsolePages.Refused("Not found", "no such action", session, StatusCodes.Status404NotFound);
        }

        var reason = form["reason"].FirstOrDefault()?.Trim();
        if (reason is { Length: > 500 })
        {
            return ConsolePages.Refused("Refused", "reason: at most 500 characters", session, StatusCodes.Status400BadRequest);
        }

        reason = string.IsNullOrEmpty(reason) ? null : reason;
        var admin = context.RequestServices.GetRequiredService<AgentAdmin>();
        var actor = ApprovalPages.Actor(session);
        var result = action == "revoke"
            ? await admin.RevokeAsync(id, reason, actor, context.RequestAborted)
            : await admin.SetUnderApprovalAsync(id, action == "hold", reason, actor, context.RequestAborted);
        if (!result.Ok)
        {
            var status = result.Failure switch
            {
                AdminFailure.NotFound => StatusCodes.Status404NotFound,
                AdminFailure.Invalid => StatusCodes.Status400BadRequest,
                _ => StatusCodes.Status409Conflict,
            };
            var detail = result.Errors is { Count: > 0 } errors ? string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")) : result.Message ?? "not possible in the current state";
            return ConsolePages.Refused("Refused", detail, session, status);
        }

        var agent = result.Value!;
        var body = new ConsoleHtml();
        if (action == "revoke")
        {
            var stopped = await context.RequestServices.GetRequiredService<RunLifecycle>().CancelAgentAsync(agent.Id, $"agent '{agent.Name}' was revoked ({agent.RevokedReason})", RevokeWait);
            body.Raw("<p id=\"outcome\" role=\"status\">").Text(string.Create(CultureInfo.InvariantCulture, $"Revoked {agent.Name}; {stopped} of its runs were stopped.")).Raw("</p>");
        }
        else
        {
            body.Raw("<p id=\"outcome\" role=\"status\">").Text(action == "hold" ? $"{agent.Name} is under approval." : $"{agent.Name} is released.").Raw("</p>");
        }

        body.Raw("<p><a href=\"/console/agents\">Back to the agents</a></p>");
        return ConsolePages.Page(Title(action), session, body);
    }

    private static string Title(string action) => action switch { "hold" => "Hold", "release" => "Release", _ => "Revoke" };
}
