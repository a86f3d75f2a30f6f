using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Audit;

namespace Sandbox.Server.OperatorConsole;

/// <summary>
/// The audit pages: records filtered by agent, run, kind and time, a page at a time; the chain verified from the page,
/// with its head shown as an anchor to copy and to check against later; and the filtered records exported as JSON lines,
/// every field with the hashes, as <c>sandbox audit show --jsonl</c> writes them.
/// </summary>
internal static class AuditPages
{
    /// <summary>Records per page: a page stays quick to render and read; the next page goes on after its last record.</summary>
    internal const int PageSize = 100;

    private static readonly IReadOnlyList<string> s_kinds = AuditKinds.All;

    public static async Task<IResult> ListAsync(HttpContext context, ConsoleSession session)
    {
        var admin = context.RequestServices.GetRequiredService<AgentAdmin>();
        var agents = await admin.ListAgentsAsync(context.RequestAborted);
        var names = agents.ToDictionary(a => a.Id, a => a.Name, StringComparer.Ordinal);
        var (filter, errors) = await ParseAsync(context, admin);
        var body = new ConsoleHtml();
        Filters(body, filter, agents.Select(a => a.Name).Order(StringComparer.Ordinal));
        if (errors.Count > 0)
        {
            body.Raw("<ul class=\"error\" role=\"alert\">");
            foreach (var error in errors)
            {
                body.Element("li", error);
            }

            body.Raw("</ul>");
            return ConsolePages.Page("Audit log", session, body, StatusCodes.Status400BadRequest);
        }

        var records = await admin.QueryAuditAsync(filter.Query with { Limit = PageSize }, context.RequestAborted);
        body.Raw("<p class=\"actions\"><a href=\"/console/audit/verify\" id=\"verify-link\">Verify the chain</a> <a href=\"/console/audit/export").Text(filter.QueryString(after: null)).Raw("\" id=\"export\" download>Export these records as JSON lines</a></p>");
        if (records.Count == 0)
        {
            body.Raw("<p id=\"empty\">No record matches.</p>");
        }
        else
        {
            body.Raw("<div class=\"scroll\"><table id=\"audit\"><caption>Audit records, oldest first</caption><thead><tr><th scope=\"col\">Seq</th><th scope=\"col\">Time</th><th scope=\"col\">Kind</th><th scope=\"col\">Status</th><th scope=\"col\">Agent</th><th scope=\"col\">Run</th><th scope=\"col\">By</th><th scope=\"col\">Data</th></tr></thead><tbody>");
            foreach (var r in records)
            {
                var data = Parse(r.Data);
                body.Raw("<tr>").Element("td", r.Sequence.ToString(CultureInfo.InvariantCulture)).Element("td", ConsolePages.Time(r.Time)).Element("td", r.Kind).Element("td", r.Status)
                    .Element("td", r.AgentId is null ? "" : names.GetValueOrDefault(r.AgentId, r.AgentId)).Raw("<td class=\"id\">");
                if (r.RunId is { } runId)
                {
                    body.Raw("<a href=\"/console/audit?run=").Text(Uri.EscapeDataString(runId)).Raw("\">").Text(runId).Raw("</a>");
                }

                body.Raw("</td>").Element("td", Actor(data), "by")
                    .Raw("<td class=\"data\"><details><summary>").Text(Preview(r.Data)).Raw("</summary><pre tabindex=\"0\">").Text(RunPages.Pretty(r.Data), multiline: true)
                    .Raw("</pre><p class=\"note hash\">").Text($"hash {r.Hash}, after {r.PreviousHash}").Raw("</p></details></td></tr>");
            }

            body.Raw("</tbody></table></div>");
            if (records.Count == PageSize || records.Sum(r => (long)r.Data.Length) >= filter.Query.MaxDataChars)
            {
                body.Raw("<p><a rel=\"next\" id=\"next\" href=\"/console/audit").Text(filter.QueryString(after: records[^1].Sequence)).Raw("\">Next records</a></p>");
            }
        }

        return ConsolePages.Page("Audit log", session, body);
    }

    /// <summary>Walks the whole chain (as <c>sandbox audit verify</c>), optionally against an anchor the operator kept.</summary>
    public static async Task<IResult> VerifyAsync(HttpContext context, ConsoleSession session)
    {
        var text = context.Request.Query["anchor"].FirstOrDefault()?.Trim() ?? "";
        var body = new ConsoleHtml();
        var anchors = new List<AuditAnchor>();
        if (text.Length > 0)
        {
            if (!AuditAnchor.TryParse(text, out var anchor, out var error))
            {
                body.Raw("<p class=\"error\" role=\"alert\">").Text("anchor: " + error).Raw("</p>");
                AnchorForm(body, text);
                return ConsolePages.Page("Verify the audit chain", session, body, StatusCodes.Status400BadRequest);
            }

            anchors.Add(anchor!);
        }

        var verification = await context.RequestServices.GetRequiredService<AgentAdmin>().VerifyAuditAsync(anchors, context.RequestAborted);
        if (verification.Intact)
        {
            body.Raw("<p id=\"verdict\" class=\"ok\" role=\"status\">")
                .Text(string.Create(CultureInfo.InvariantCulture, $"Audit chain intact: {verification.RecordsChecked} records{(anchors.Count > 0 ? $", and anchor {anchors[0]} matches" : "")}."))
                .Raw("</p><p>Keep the head somewhere this host cannot reach; verifying against it later shows that no record was cut off the end and that the log was not rewritten.</p>")
                .Raw("<label for=\"head\">Head (anchor)</label><div class=\"copy\"><input id=\"head\" type=\"text\" readonly value=\"").Text(verification.Head?.ToString()).Raw("\">")
                .Raw("<button type=\"button\" id=\"copy-head\" data-copy=\"head\">Copy</button></div><p class=\"note\" id=\"copied\" role=\"status\"></p>");
        }
        else
        {
            body.Raw("<p id=\"verdict\" class=\"bad\" role=\"alert\">")
                .Text(string.Create(CultureInfo.InvariantCulture, $"Audit chain BROKEN at record {verification.FirstBrokenSequence?.ToString(CultureInfo.InvariantCulture) ?? "?"}: {verification.Problem}"))
                .Raw("</p>");
        }

        AnchorForm(body, text);
        body.Raw("<p><a href=\"/console/audit\">Back to the audit log</a></p>");
        return ConsolePages.Page("Verify the audit chain", session, body, verification.Intact ? StatusCodes.Status200OK : StatusCodes.Status409Conflict);
    }

    /// <summary>The filtered records as JSON lines, every page of them, written as they are read so memory holds one page.</summary>
    public static async Task ExportAsync(HttpContext context, ConsoleSession session)
    {
        var admin = context.RequestServices.GetRequiredService<AgentAdmin>();
        var (filter, errors) = await ParseAsync(context, admin);
        if (errors.Count > 0)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(string.Join("\n", errors), context.RequestAborted);
            return;
        }

        context.Response.ContentType = "application/x-ndjson; charset=utf-8";
        context.Response.Headers.ContentDisposition = "attachment; filename=\"audit.jsonl\"";
        var query = filter.Query;
        while (true)
        {
            var records = await admin.QueryAuditAsync(query, context.RequestAborted);
            var page = new StringBuilder();
            foreach (var r in records)
            {
                page.Append(Line(r).ToJsonString()).Append('\n');
            }

            await context.Response.WriteAsync(page.ToString(), context.RequestAborted);
            if (records.Count == 0 || (records.Count < query.Limit && records.Sum(r => (long)r.Data.Length) < query.MaxDataChars))
            {
                return;
            }

            query = query with { AfterSequence = records[^1].Sequence };
        }
    }

    /// <summary>One record as an export line: the fields <c>sandbox audit show --jsonl</c> writes, data parsed, hashes included.</summary>
    internal static JsonObject Line(AuditRecord record) => new()
    {
        ["seq"] = record.Sequence,
        ["time"] = AuditChain.FormatTime(record.Time),
        ["kind"] = record.Kind,
        ["agentId"] = record.AgentId,
        ["runId"] = record.RunId,
        ["status"] = record.Status,
        ["data"] = Parse(record.Data) ?? (JsonNode)record.Data,
        ["prevHash"] = record.PreviousHash,
        ["hash"] = record.Hash,
    };

    /// <summary>The page's filters from the query string; each bad one is an error naming its field.</summary>
    private static async Task<(AuditFilter Filter, List<string> Errors)> ParseAsync(HttpContext context, AgentAdmin admin)
    {
        var q = context.Request.Query;
        var errors = new List<string>();
        var agent = q["agent"].FirstOrDefault()?.Trim() ?? "";
        var run = q["run"].FirstOrDefault()?.Trim() ?? "";
        var kind = q["kind"].FirstOrDefault()?.Trim() ?? "";
        var from = q["from"].FirstOrDefault()?.Trim() ?? "";
        var to = q["to"].FirstOrDefault()?.Trim() ?? "";
        string? agentId = null;
        if (agent.Length > 0 && (agentId = (await admin.FindAgentAsync(agent, context.RequestAborted))?.Id) is null)
        {
            errors.Add($"agent: no agent '{Shorten(agent)}'");
        }

        if (kind.Length > 0 && !s_kinds.Contains(kind))
        {
            errors.Add($"kind: '{Shorten(kind)}' is not one of {string.Join(", ", s_kinds)}");
        }

        if (run.Length > 100)
        {
            errors.Add("run: at most 100 characters");
        }

        var fromTime = Time(from, "from", errors);
        var toTime = Time(to, "to", errors);
        long after = 0;
        if (q["after"].FirstOrDefault() is { Length: > 0 } afterText && !long.TryParse(afterText, NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            errors.Add("after: use a record's sequence number");
        }

        var query = new AuditQuery
        {
            AgentId = agentId,
            RunId = run.Length > 0 ? run : null,
            Kind = kind.Length > 0 ? kind : null,
            From = fromTime,
            To = toTime,
            AfterSequence = after,
        };
        return (new AuditFilter(agent, run, kind, from, to, query), errors);
    }

    /// <summary>A time as the form's <c>datetime-local</c> field sends it (taken as UTC, as the page shows times), or ISO 8601.</summary>
    private static DateTimeOffset? Time(string text, string field, List<string> errors)
    {
        if (text.Length == 0)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }

        errors.Add($"{field}: '{Shorten(text)}' is not a time; use 2026-11-21T09:00 (UTC) or an ISO 8601 time");
        return null;
    }

    private static void Filters(ConsoleHtml body, AuditFilter filter, IEnumerable<string> agents)
    {
        body.Raw("<form method=\"get\" action=\"/console/audit\" class=\"filters\" role=\"search\" aria-label=\"Filter the audit log\">")
            .Raw("<label for=\"filter-agent\">Agent</label><select id=\"filter-agent\" name=\"agent\"><option value=\"\">every agent</option>");
        foreach (var name in agents)
        {
            body.Raw("<option value=\"").Text(name).Raw(name == filter.Agent ? "\" selected>" : "\">").Text(name).Raw("</option>");
        }

        body.Raw("</select><label for=\"filter-kind\">Kind</label><select id=\"filter-kind\" name=\"kind\"><option value=\"\">every kind</option>");
        foreach (var kind in s_kinds)
        {
            body.Raw("<option value=\"").Raw(kind).Raw(kind == filter.Kind ? "\" selected>" : "\">").Raw(kind).Raw("</option>");
        }

        body.Raw("</select><label for=\"filter-run\">Run</label><input id=\"filter-run\" name=\"run\" type=\"text\" maxlength=\"100\" value=\"").Text(filter.Run).Raw("\">")
            .Raw("<label for=\"filter-from\">From (UTC)</label><input id=\"filter-from\" name=\"from\" type=\"datetime-local\" step=\"1\" value=\"").Text(filter.From).Raw("\">")
            .Raw("<label for=\"filter-to\">To (UTC)</label><input id=\"filter-to\" name=\"to\" type=\"datetime-local\" step=\"1\" value=\"").Text(filter.To).Raw("\">")
            .Raw("<button type=\"submit\">Filter</button></form>");
    }

    private static void AnchorForm(ConsoleHtml body, string anchor) =>
        body.Raw("<form method=\"get\" action=\"/console/audit/verify\" class=\"stack\"><label for=\"anchor\">Verify against an anchor you kept (SEQ:HASH)</label>")
            .Raw("<input id=\"anchor\" name=\"anchor\" type=\"text\" maxlength=\"100\" autocomplete=\"off\" value=\"").Text(anchor).Raw("\"><button type=\"submit\">Verify</button></form>");

    private static JsonNode? Parse(string json)
    {
        try
        {
            return JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Who acted: an approval's <c>by</c>, an admin action's <c>actor</c>.</summary>
    private static string Actor(JsonNode? data) =>
        (data?["by"] ?? data?["actor"]) is JsonValue value && value.TryGetValue<string>(out var who) ? who : "";

    private static string Preview(string data) => data.Length <= 120 ? data : data[..119] + "…";

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..59] + "…";

    /// <summary>The filters as the form sent them (to show them again and to page on) and as the store's query.</summary>
    private sealed record AuditFilter(string Agent, string Run, string Kind, string From, string To, AuditQuery Query)
    {
        public string QueryString(long? after)
        {
            var pairs = new List<KeyValuePair<string, string?>>();
            foreach (var (name, value) in new[] { ("agent", Agent), ("run", Run), ("kind", Kind), ("from", From), ("to", To) })
            {
                if (value.Length > 0)
                {
                    pairs.Add(new(name, value));
                }
            }

            if (after is { } a)
            {
                pairs.Add(new("after", a.ToString(CultureInfo.InvariantCulture)));
            }

            return Microsoft.AspNetCore.Http.QueryString.Create(pairs).ToString();
        }
    }
}
