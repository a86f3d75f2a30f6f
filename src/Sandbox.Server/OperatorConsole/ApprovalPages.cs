using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Server.Runs;

namespace Sandbox.Server.OperatorConsole;

/// <summary>The approvals pages: the pending queue, one approval shown in full, and the decision.</summary>
internal static class ApprovalPages
{
    /// <summary>How many of the agent's latest results an approval shows, and how many audit pages are read to find them.</summary>
    private const int LastRuns = 10;
    private const int MaxAuditPages = 20;

    public static async Task<IResult> ListAsync(HttpContext context, ConsoleSession session)
    {
        var pending = await PendingAsync(context);
        var body = new ConsoleHtml();
        if (pending.Count == 0)
        {
            body.Raw("<p id=\"empty\">No run is waiting for a decision.</p>");
        }
        else
        {
            body.Raw("<div class=\"scroll\"><table id=\"approvals\"><caption>Pending approvals, oldest first</caption><thead><tr><th scope=\"col\">Waiting since</th><th scope=\"col\">Agent</th><th scope=\"col\">Profile</th><th scope=\"col\">Purpose</th><th scope=\"col\">Reason</th><th scope=\"col\">Expires</th></tr></thead><tbody>");
            foreach (var a in pending)
            {
                body.Raw("<tr><td><a href=\"/console/approvals/").Text(Uri.EscapeDataString(a.Id)).Raw("\">").Text(ConsolePages.Time(a.CreatedAt)).Raw("</a></td>")
                    .Element("td", a.AgentName).Element("td", a.Profile).Element("td", Preview(a.Purpose)).Element("td", Preview(a.Reason)).Element("td", ConsolePages.Time(a.ExpiresAt)).Raw("</tr>");
            }

            body.Raw("</tbody></table></div>");
        }

        return ConsolePages.Page("Approvals", session, body, pending: pending.Count);
    }

    /// <summary>The badge's live count, as JSON for the page's script.</summary>
    public static async Task<IResult> CountAsync(HttpContext context, ConsoleSession session) =>
        Results.Json(new Dictionary<string, int> { ["pending"] = (await PendingAsync(context)).Count }, ConsoleJsonContext.Default.DictionaryStringInt32);

    public static async Task<IResult> ShowAsync(HttpContext context, ConsoleSession session, string id, string? message = null, int status = StatusCodes.Status200OK)
    {
        var admin = context.RequestServices.GetRequiredService<AgentAdmin>();
        var all = await admin.ListApprovalsAsync(null, context.RequestAborted);
        var pendingCount = all.Count(a => a.State == ApprovalState.Pending);
        if (all.FirstOrDefault(a => a.Id == id) is not { } a)
        {
            return ConsolePages.Page("Not found", session, new ConsoleHtml().Raw("<p class=\"error\" role=\"alert\">No approval '").Text(id).Raw("'.</p>"), StatusCodes.Status404NotFound, pendingCount);
        }

        var body = new ConsoleHtml();
        if (message is not null)
        {
            body.Raw("<p class=\"error\" role=\"alert\">").Text(message).Raw("</p>");
        }

        var codeSha = AuditRecords.Sha256(a.Code);
        var codeMatches = string.Equals(codeSha, a.CodeSha256, StringComparison.OrdinalIgnoreCase);
        var digest = ApprovalDigest.Of(a);
        var bound = a.RequestSha256 is not null && digest == a.RequestSha256;
        body.Raw("<dl class=\"facts\">")
            .Raw("<dt>State</dt><dd id=\"state\">").Text(ApprovalStates.Name(a.State)).Raw("</dd>")
            .Raw("<dt>Run</dt><dd>").Text(a.RunId).Raw("</dd>")
            .Raw("<dt>Agent</dt><dd id=\"agent\">").Text($"{a.AgentName} ({a.AgentId})").Raw("</dd>")
            .Raw("<dt>Purpose</dt><dd id=\"purpose\">").Text(a.Purpose).Raw("</dd>")
            .Raw("<dt>Reason</dt><dd>").Text(a.Reason).Raw("</dd>")
            .Raw("<dt>Profile</dt><dd>").Text(a.Profile).Raw("</dd>")
            .Raw("<dt>Language</dt><dd>").Text(a.Language).Raw("</dd>")
            .Raw("<dt>Backend</dt><dd>").Text($"{a.Backend ?? "?"}, runtime {a.Runtime ?? "?"}").Raw("</dd>")
            .Raw("<dt>Limits</dt><dd>").Text(a.Limits is { } limits ? string.Join(", ", limits.Enumerate().Select(l => $"{l.Name}={l.Value}")) : "?").Raw("</dd>")
            .Raw("<dt>Waiting since</dt><dd>").Text(ConsolePages.Time(a.CreatedAt)).Raw("</dd>")
            .Raw("<dt>Expires</dt><dd>").Text(ConsolePages.Time(a.ExpiresAt)).Raw("</dd>");
        if (a.State != ApprovalState.Pending)
        {
            body.Raw("<dt>Decided</dt><dd id=\"decided\">").Text($"{ConsolePages.Time(a.DecidedAt)} by {a.DecidedBy}{(a.Note is { } n ? ": " + n : "")}").Raw("</dd>");
        }

        // The hashes are what the run and the audit log refer to: a code that does not hash to them is not what would run.
        body.Raw("<dt>Code sha256</dt><dd class=\"").Raw(codeMatches ? "ok" : "bad").Raw("\" id=\"code-hash\">").Text(codeMatches ? $"{a.CodeSha256} (matches the code below)" : $"{a.CodeSha256} DOES NOT MATCH the code below, which hashes to {codeSha}: do not approve").Raw("</dd>")
            .Raw("<dt>Binds</dt><dd class=\"").Raw(bound ? "ok" : "bad").Raw("\">").Text(
                a.RequestSha256 is null || digest is null ? "none: this approval predates approvals that bind the whole request, and approving it will not run it"
                : bound ? $"{a.RequestSha256} (code, files, stdin, profile, runtime and limits shown here match it; any change after approval refuses the run)"
                : $"{a.RequestSha256} DOES NOT MATCH what is shown, which hashes to {digest}: do not approve").Raw("</dd></dl>");

        body.Raw("<p class=\"note\">Control, bidi and invisible characters are shown as \\u{XXXX}.</p>");
        Block(body, "code", $"Code ({Encoding.UTF8.GetByteCount(a.Code)} bytes)", a.Code);
        foreach (var file in a.Files)
        {
            var fileSha = AuditRecords.Sha256(file.Content);
            var matches = string.Equals(fileSha, file.Sha256, StringComparison.OrdinalIgnoreCase);
            Block(body, "file", $"File {file.Path} ({file.Bytes} bytes, sha256 {file.Sha256}{(matches ? "" : $", DOES NOT MATCH its content, which hashes to {fileSha}: do not approve")})", file.Content);
        }

        if (a.Stdin is { } stdin)
        {
            Block(body, "stdin", $"Stdin ({Encoding.UTF8.GetByteCount(stdin)} bytes, sha256 {AuditRecords.Sha256(stdin)})", stdin);
        }

        if (a.State == ApprovalState.Pending)
        {
            var action = "/console/approvals/" + Uri.EscapeDataString(a.Id);
            body.Raw("<section class=\"decide\" aria-labelledby=\"decide-title\"><h2 id=\"decide-title\">Decide</h2><p>Recorded as <strong>").Text(Actor(session)).Raw("</strong>.</p>")
                .Raw("<form method=\"post\" class=\"stack\" action=\"").Text(action + "/approve").Raw("\">").Csrf(session)
                .Raw("<label for=\"approve-note\">Note for approving</label><input id=\"approve-note\" name=\"note\" type=\"text\" maxlength=\"500\">")
                .Raw("<button type=\"submit\" id=\"approve\">Approve and run</button></form>")
                .Raw("<form method=\"post\" class=\"stack\" action=\"").Text(action + "/deny").Raw("\">").Csrf(session)
                .Raw("<label for=\"deny-note\">Note for denying</label><input id=\"deny-note\" name=\"note\" type=\"text\" maxlength=\"500\">")
                .Raw("<button type=\"submit\" id=\"deny\" class=\"danger\">Deny</button></form></section>");
        }

        await LastRunsAsync(context, body, a.AgentId);
        return ConsolePages.Page($"Approval {a.Id}", session, body, status, pendingCount);
    }

    /// <summary>Approve or deny: the same <see cref="AgentAdmin.DecideAsync"/> and wake-up as <c>POST /admin/v1/approvals/{id}/…</c>.</summary>
    public static async Task<IResult> DecideAsync(HttpContext context, ConsoleSession session, IFormCollection form, string id, bool approve)
    {
        var note = form["note"].FirstOrDefault()?.Trim();
        if (note is { Length: > 500 })
        {
            return await ShowAsync(context, session, id, "note: at most 500 characters", StatusCodes.Status400BadRequest);
        }

        var admin = context.RequestServices.GetRequiredService<AgentAdmin>();
        var result = await admin.DecideAsync(id, approve, Actor(session), string.IsNullOrEmpty(note) ? null : note, context.RequestAborted);
        if (!result.Ok)
        {
            return await ShowAsync(context, session, id, result.Message ?? "not possible in the current state",
                result.Failure == AdminFailure.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict);
        }

        // Applied now rather than at the next poll, as the admin API does, so the run is queued (or rejected) by the time the page shows it.
        await context.RequestServices.GetRequiredService<RunLifecycle>().WatchAsync(context.RequestAborted);
        return Results.Redirect("/console/approvals/" + Uri.EscapeDataString(id));
    }

    /// <summary>The actor recorded with a decision: as the admin API records its <c>by</c>.</summary>
    internal static string Actor(ConsoleSession session) => "admin:" + session.Operator;

    private static async Task<List<Approval>> PendingAsync(HttpContext context)
    {
        var admin = context.RequestServices.GetRequiredService<AgentAdmin>();
        return [.. (await admin.ListApprovalsAsync(ApprovalState.Pending, context.RequestAborted)).OrderBy(a => a.CreatedAt).ThenBy(a => a.Id, StringComparer.Ordinal)];
    }

    private static void Block(ConsoleHtml body, string kind, string title, string text) =>
        body.Raw("<section class=\"block ").Raw(kind).Raw("\"><h2>").Text(title).Raw("</h2><pre tabindex=\"0\">").Text(text, multiline: true).Raw("</pre></section>");

    /// <summary>The agent's latest results, from the audit log (the one record of every run's end).</summary>
    private static async Task LastRunsAsync(HttpContext context, ConsoleHtml body, string agentId)
    {
        var admin = context.RequestServices.GetRequiredService<AgentAdmin>();
        var latest = new Queue<AuditRecord>();
        long after = 0;
        var complete = false;
        for (var page = 0; page < MaxAuditPages; page++)
        {
            var query = new AuditQuery { AgentId = agentId, Kind = "result", AfterSequence = after, Limit = AuditQuery.MaxPageSize };
            var records = await admin.QueryAuditAsync(query, context.RequestAborted);
            foreach (var record in records)
            {
                latest.Enqueue(record);
                if (latest.Count > LastRuns)
                {
                    latest.Dequeue();
                }
            }

            if (records.Count == 0 || (records.Count < query.Limit && records.Sum(r => (long)r.Data.Length) < query.MaxDataChars))
            {
                complete = true;
                break;
            }

            after = records[^1].Sequence;
        }

        body.Raw("<section aria-labelledby=\"runs-title\"><h2 id=\"runs-title\">The agent's last runs</h2>");
        if (latest.Count == 0)
        {
            body.Raw("<p>None yet.</p>");
        }
        else
        {
            body.Raw("<div class=\"scroll\"><table id=\"last-runs\"><thead><tr><th scope=\"col\">Ended</th><th scope=\"col\">Run</th><th scope=\"col\">Result</th></tr></thead><tbody>");
            foreach (var r in latest.Reverse())
            {
                body.Raw("<tr>").Element("td", ConsolePages.Time(r.Time)).Element("td", r.RunId).Element("td", r.Status).Raw("</tr>");
            }

            body.Raw("</tbody></table></div>");
        }

        if (!complete)
        {
            body.Raw("<p class=\"note\">").Text(string.Create(CultureInfo.InvariantCulture, $"Only the first {MaxAuditPages} pages of its audit records were read.")).Raw("</p>");
        }

        body.Raw("</section>");
    }

    private static string Preview(string? text) => text is null ? "" : text.Length <= 80 ? text : text[..79] + "…";
}
