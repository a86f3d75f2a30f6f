using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Core.Runs;
using Sandbox.Guard.Agents;
using Sandbox.Server.Http;
using Sandbox.Server.Runs;

namespace Sandbox.Server.OperatorConsole;

/// <summary>The agents pages: the list, and create, hold, release, rotate and revoke, each through a confirmation page.</summary>
internal static class AgentPages
{
    /// <summary>How long a revocation waits for the agent's runs to be confirmed dead, as <c>/admin/v1</c> does.</summary>
    private static readonly TimeSpan RevokeWait = TimeSpan.FromSeconds(5);

    private static readonly string[] s_actions = ["hold", "release", "rotate", "revoke"];

    public static async Task<IResult> ListAsync(HttpContext context, ConsoleSession session)
    {
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var admin = context.RequestServices.GetRequiredService<AgentAdmin>();
        var agents = await admin.ListAgentsAsync(context.RequestAborted);
        var body = new ConsoleHtml().Raw("<p class=\"actions\"><a href=\"/console/agents/new\" id=\"create\">Create an agent</a></p><div class=\"scroll\"><table id=\"agents\"><caption>Agents</caption><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">State</th><th scope=\"col\">Actions</th><th scope=\"col\">Profiles</th><th scope=\"col\">Caps</th><th scope=\"col\">Today</th><th scope=\"col\">Expires</th></tr></thead><tbody>");
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
                .Element("td", string.Create(CultureInfo.InvariantCulture, $"{agent.RatePerMinute}/min, {agent.MaxConcurrentRuns} at once, {agent.DailyRuns} runs, {agent.DailyCpuSeconds:0.#} CPU s and {agent.DailyStoredMb} MiB stored a day"))
                .Element("td", await TodayAsync(admin, agent, context.RequestAborted))
                .Element("td", ConsolePages.Time(agent.ExpiresAt)).Raw("</tr>");
        }

        body.Raw("</tbody></table></div>");
        return ConsolePages.Page("Agents", session, body);
    }

    /// <summary>Today's usage against the daily caps, as the guard counts it (UTC day).</summary>
    private static async Task<string> TodayAsync(AgentAdmin admin, Agent agent, CancellationToken cancellationToken)
    {
        var usage = await admin.UsageTodayAsync(agent.Id, cancellationToken);
        return string.Create(CultureInfo.InvariantCulture, $"{usage.Runs} of {agent.DailyRuns} runs, {usage.CpuMs / 1000.0:0.#} of {agent.DailyCpuSeconds:0.#} CPU s, {usage.StoredBytes / 1048576.0:0.#} of {agent.DailyStoredMb} MiB stored");
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
            "rotate" => "It gets a new key, shown once on the next page. The old key and the task tokens it minted stop working at once, and the runs they started are killed.",
            _ => "Its keys and task tokens stop working at once and its queued and running runs are killed. This cannot be undone.",
        };
        var body = new ConsoleHtml().Raw("<p>").Text($"{Title(action)} agent {agent.Name}? {what}").Raw("</p>")
            .Raw("<form method=\"post\" class=\"stack\" action=\"/console/agents/").Text(Uri.EscapeDataString(agent.Id)).Raw("/").Raw(action).Raw("\">").Csrf(session);
        if (action != "rotate")
        {
            // A rotation records no reason (AgentAdmin.RotateAsync takes none); the others keep theirs in the audit log.
            body.Raw("<label for=\"reason\">Reason (kept in the audit log)</label><input id=\"reason\" name=\"reason\" type=\"text\" maxlength=\"500\"")
                .Raw(action == "release" ? ">" : " required>");
        }

        body.Raw("<button type=\"submit\" id=\"confirm\"").Raw(action is "revoke" or "rotate" ? " class=\"danger\"" : "").Raw(">").Raw(Title(action)).Raw("</button></form>")
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
        if (action == "rotate")
        {
            return await RotateAsync(context, session, admin, id, actor);
        }

        var lifecycle = context.RequestServices.GetRequiredService<RunLifecycle>();
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
            // The runs to name: those still open now (CancelAgentAsync stops exactly these, and counts the ones start-up recovery follows).
            var open = lifecycle.AllEntries().Where(e => e.Principal.Agent.Id == agent.Id && e.State != RunState.Completed).ToList();
            var stopped = await lifecycle.CancelAgentAsync(agent.Id, $"agent '{agent.Name}' was revoked ({agent.RevokedReason})", RevokeWait);
            body.Raw("<p id=\"outcome\" role=\"status\">").Text(string.Create(CultureInfo.InvariantCulture, $"Revoked {agent.Name}; {stopped} of its runs were stopped.")).Raw("</p>");
            StoppedRuns(body, open);
            ConsoleLog.AgentChanged(ConsoleLog.For(context), agent.Name, "revoked", session.Operator, stopped);
        }
        else
        {
            ConsoleLog.AgentChanged(ConsoleLog.For(context), agent.Name, action == "hold" ? "held" : "released", session.Operator, 0);
            body.Raw("<p id=\"outcome\" role=\"status\">").Text(action == "hold" ? $"{agent.Name} is under approval." : $"{agent.Name} is released.").Raw("</p>");
        }

        body.Raw("<p><a href=\"/console/agents\">Back to the agents</a></p>");
        return ConsolePages.Page(Title(action), session, body);
    }

    /// <summary>A new key: the old one and what it started stop, as <c>POST /admin/v1/agents/{id}/rotate</c> does; the key is shown here once.</summary>
    private static async Task<IResult> RotateAsync(HttpContext context, ConsoleSession session, AgentAdmin admin, string id, string actor)
    {
        var result = await admin.RotateAsync(id, actor, context.RequestAborted);
        if (!result.Ok)
        {
            return ConsolePages.Refused("Refused", result.Message ?? "not possible in the current state", session, result.Failure == AdminFailure.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict);
        }

        var issued = result.Value!;
        var lifecycle = context.RequestServices.GetRequiredService<RunLifecycle>();
        var open = lifecycle.AllEntries().Where(e => e.Principal.Agent.Id == issued.Agent.Id && e.State != RunState.Completed && e.Principal.Credential.Id != issued.KeyId).ToList();
        var stopped = await lifecycle.CancelRevokedCredentialsAsync(issued.Agent.Id, RevokeWait, context.RequestAborted);
        ConsoleLog.KeyRotated(ConsoleLog.For(context), issued.Agent.Name, session.Operator, stopped);
        var body = new ConsoleHtml().Raw("<p id=\"outcome\" role=\"status\">").Text(string.Create(CultureInfo.InvariantCulture, $"Rotated the key of {issued.Agent.Name}; {stopped} runs of its old key were stopped.")).Raw("</p>");
        IssuedKey(body, issued.Key, issued.KeyId);
        StoppedRuns(body, open.Where(e => e.State == RunState.Completed).ToList());
        body.Raw("<p><a href=\"/console/agents\">Back to the agents</a></p>");
        return ConsolePages.Page($"New key for {issued.Agent.Name}", session, body);
    }

    /// <summary>A key shown once: this page is never cached (no-store) and the key is in no log, so it is copied now or rotated again.</summary>
    internal static void IssuedKey(ConsoleHtml body, string key, string keyId) =>
        body.Raw("<p class=\"bad\">This key is shown once, now; copy it to where the agent keeps its secrets. It cannot be shown again.</p>")
            .Raw("<label for=\"new-key\">").Text($"Agent key ({keyId})").Raw("</label><div class=\"copy\"><input id=\"new-key\" type=\"text\" readonly autocomplete=\"off\" value=\"").Text(key).Raw("\">")
            .Raw("<button type=\"button\" data-copy=\"new-key\">Copy</button></div><p class=\"note\" id=\"copied\" role=\"status\"></p>");

    /// <summary>Names the runs a revocation or rotation stopped, each linking to its page (which shows how it ended).</summary>
    private static void StoppedRuns(ConsoleHtml body, List<RunEntry> runs)
    {
        if (runs.Count == 0)
        {
            return;
        }

        body.Raw("<h2 id=\"killed-title\">Runs stopped</h2><ul id=\"killed\" aria-labelledby=\"killed-title\">");
        foreach (var run in runs)
        {
            body.Raw("<li><a href=\"/console/runs/").Text(Uri.EscapeDataString(run.Id)).Raw("\">").Text(run.Id).Raw("</a> ")
                .Text($"({run.Result?.Status.ToWireName() ?? "being killed"}; {Preview(run.Plan.Request.Purpose)})").Raw("</li>");
        }

        body.Raw("</ul>");
    }

    private static string Preview(string? text) => text is null ? "no purpose given" : text.Length <= 60 ? text : text[..59] + "…";

    private static string Title(string action) => action switch { "hold" => "Hold", "release" => "Release", "rotate" => "Rotate key", _ => "Revoke" };
}
