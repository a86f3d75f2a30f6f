using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Audit;

namespace Sandbox.Server.OperatorConsole;

/// <summary>
/// Budgets and activity: per agent, runs and CPU seconds over the last 24 hours, hour by hour and added up, against the
/// agent's daily caps, as SVG drawn here (no script, no library, nothing from elsewhere); and the alerts of the last 24
/// hours with what fired them. Read from the audit log's result and alert records, the one record of every run's end.
/// </summary>
internal static class BudgetPages
{
    internal const int Hours = 24;

    /// <summary>Audit pages read at most (of <see cref="AuditQuery.MaxPageSize"/> each), so a busy day cannot make the page unbounded.</summary>
    private const int MaxAuditPages = 50;

    private const int ChartWidth = 480;
    private const int ChartHeight = 150;
    private const int PlotLeft = 44;
    private const int PlotTop = 8;
    private const int PlotBottom = 128;

    public static async Task<IResult> ShowAsync(HttpContext context, ConsoleSession session)
    {
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var since = now - TimeSpan.FromHours(Hours);
        var admin = context.RequestServices.GetRequiredService<AgentAdmin>();
        var only = context.Request.Query["agent"].FirstOrDefault() ?? "";
        var agents = (await admin.ListAgentsAsync(context.RequestAborted)).Where(a => only.Length == 0 || a.Name == only).OrderBy(a => a.Name, StringComparer.Ordinal).ToList();
        var (results, complete) = await ReadAsync(admin, AuditKinds.Result, since, context.RequestAborted);
        var (alerts, alertsComplete) = await ReadAsync(admin, AuditKinds.Alert, since, context.RequestAborted);
        var names = agents.ToDictionary(a => a.Id, a => a.Name, StringComparer.Ordinal);

        var body = new ConsoleHtml().Raw("<p class=\"note\">").Text($"The last {Hours} hours, {ConsolePages.Time(since)} to {ConsolePages.Time(now)}, hour by hour (bars) and added up (line), against each agent's daily cap (dashed). Caps count per UTC day.").Raw("</p>");
        if (!complete || !alertsComplete)
        {
            body.Raw("<p class=\"note\">").Text(string.Create(CultureInfo.InvariantCulture, $"Only the first {MaxAuditPages * AuditQuery.MaxPageSize} records were read; the charts may fall short.")).Raw("</p>");
        }

        AlertsSection(body, alerts.Where(a => only.Length == 0 || (a.AgentId is { } id && names.ContainsKey(id))).ToList(), names);
        var byAgent = results.Where(r => r.AgentId is not null).ToLookup(r => r.AgentId!, StringComparer.Ordinal);
        body.Raw("<section aria-labelledby=\"usage-title\"><h2 id=\"usage-title\">Usage by agent</h2>");
        foreach (var agent in agents.Where(a => a.RevokedAt is null || byAgent.Contains(a.Id)))
        {
            var runs = new double[Hours];
            var cpu = new double[Hours];
            foreach (var record in byAgent[agent.Id])
            {
                var hour = (int)Math.Clamp((record.Time - since).TotalHours, 0, Hours - 1);
                runs[hour]++;
                cpu[hour] += CpuSeconds(record);
            }

            var slug = "agent-" + agent.Id;
            body.Raw("<section class=\"agent-usage\" id=\"").Text(slug).Raw("\" aria-labelledby=\"").Text(slug + "-title").Raw("\"><h3 id=\"").Text(slug + "-title").Raw("\">").Text(agent.Name).Raw("</h3><div class=\"charts\">");
            Chart(body, slug + "-runs", "Runs", runs, agent.DailyRuns, "0");
            Chart(body, slug + "-cpu", "CPU seconds", cpu, agent.DailyCpuSeconds, "0.#");
            body.Raw("</div></section>");
        }

        body.Raw("</section>");
        return ConsolePages.Page("Budgets and activity", session, body);
    }

    /// <summary>The CPU a result charged, as the guard charges it (<c>RunPolicy</c>): the run's and its compile's, nothing for our own failures.</summary>
    internal static double CpuSeconds(AuditRecord record)
    {
        if (record.Status == "sandbox_error")
        {
            return 0;
        }

        try
        {
            var usage = JsonNode.Parse(record.Data)?["usage"];
            return ((double?)usage?["cpuMs"] ?? 0) / 1000 + ((double?)usage?["compileCpuMs"] ?? 0) / 1000;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return 0;
        }
    }

    /// <summary>
    /// One chart: a bar per hour, the running total as a line, the daily cap as a dashed line. An image to assistive
    /// technology, named by its totals; every bar carries its hour's numbers as a tooltip.
    /// </summary>
    internal static void Chart(ConsoleHtml body, string id, string what, double[] hourly, double cap, string format)
    {
        var total = hourly.Sum();
        var top = Math.Max(Math.Max(cap, total), 1) * 1.08;
        var plotWidth = ChartWidth - PlotLeft - 4;
        var slot = plotWidth / (double)hourly.Length;
        double Y(double value) => PlotBottom - ((PlotBottom - PlotTop) * value / top);
        string N(double value) => value.ToString(format, CultureInfo.InvariantCulture);
        string C(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
        var share = cap > 0 ? total / cap * 100 : 0;
        var label = $"{what} in the last {Hours} h: {N(total)} of a cap of {N(cap)} a day ({share.ToString("0", CultureInfo.InvariantCulture)} %)";

        body.Raw("<figure class=\"chart\"><figcaption id=\"").Text(id + "-caption").Raw("\">").Text(label).Raw("</figcaption>")
            .Raw("<svg id=\"").Text(id).Raw("\" role=\"img\" aria-labelledby=\"").Text(id + "-caption").Raw("\" viewBox=\"0 0 ").Raw(C(ChartWidth)).Raw(" ").Raw(C(ChartHeight)).Raw("\" data-total=\"").Text(N(total)).Raw("\" data-cap=\"").Text(N(cap)).Raw("\">")
            .Raw("<line class=\"axis\" x1=\"").Raw(C(PlotLeft)).Raw("\" y1=\"").Raw(C(PlotBottom)).Raw("\" x2=\"").Raw(C(ChartWidth - 4)).Raw("\" y2=\"").Raw(C(PlotBottom)).Raw("\"/>");
        var running = 0.0;
        var points = new List<string>();
        for (var i = 0; i < hourly.Length; i++)
        {
            running += hourly[i];
            var x = PlotLeft + (i * slot);
            if (hourly[i] > 0)
            {
                body.Raw("<rect class=\"bar\" x=\"").Raw(C(x + 1)).Raw("\" y=\"").Raw(C(Y(hourly[i]))).Raw("\" width=\"").Raw(C(slot - 2)).Raw("\" height=\"").Raw(C(PlotBottom - Y(hourly[i]))).Raw("\"><title>")
                    .Text(string.Create(CultureInfo.InvariantCulture, $"{Hours - i} to {Hours - i - 1} h ago: {N(hourly[i])} (total {N(running)})")).Raw("</title></rect>");
            }

            points.Add($"{C(x + slot)},{C(Y(running))}");
        }

        body.Raw("<polyline class=\"total\" points=\"").Raw(C(PlotLeft)).Raw(",").Raw(C(PlotBottom)).Raw(" ").Raw(string.Join(" ", points)).Raw("\"/>")
            .Raw("<line class=\"cap").Raw(total > cap ? " over" : "").Raw("\" x1=\"").Raw(C(PlotLeft)).Raw("\" y1=\"").Raw(C(Y(cap))).Raw("\" x2=\"").Raw(C(ChartWidth - 4)).Raw("\" y2=\"").Raw(C(Y(cap))).Raw("\"/>")
            .Raw("<text class=\"tick\" x=\"").Raw(C(PlotLeft - 4)).Raw("\" y=\"").Raw(C(Y(cap) + 4)).Raw("\" text-anchor=\"end\">").Text(N(cap)).Raw("</text>")
            .Raw("<text class=\"tick\" x=\"").Raw(C(PlotLeft - 4)).Raw("\" y=\"").Raw(C(PlotBottom + 4)).Raw("\" text-anchor=\"end\">0</text>")
            .Raw("<text class=\"tick\" x=\"").Raw(C(PlotLeft)).Raw("\" y=\"").Raw(C(ChartHeight - 4)).Raw("\">24 h ago</text>")
            .Raw("<text class=\"tick\" x=\"").Raw(C(ChartWidth - 4)).Raw("\" y=\"").Raw(C(ChartHeight - 4)).Raw("\" text-anchor=\"end\">now</text></svg></figure>");
    }

    private static void AlertsSection(ConsoleHtml body, List<AuditRecord> alerts, Dictionary<string, string> names)
    {
        body.Raw("<section aria-labelledby=\"alerts-title\"><h2 id=\"alerts-title\">Alerts</h2>");
        if (alerts.Count == 0)
        {
            body.Raw("<p id=\"no-alerts\">No detector fired in the last 24 hours.</p></section>");
            return;
        }

        body.Raw("<div class=\"scroll\"><table id=\"alerts\"><caption>Alerts, newest first, with the numbers that fired them</caption><thead><tr><th scope=\"col\">Time</th><th scope=\"col\">Agent</th><th scope=\"col\">Detector</th><th scope=\"col\">What fired it</th><th scope=\"col\">Details</th></tr></thead><tbody>");
        foreach (var alert in Enumerable.Reverse(alerts))
        {
            JsonNode? data = null;
            try
            {
                data = JsonNode.Parse(alert.Data);
            }
            catch (JsonException)
            {
                // Shown raw below.
            }

            var summary = data?["summary"] is JsonValue s && s.TryGetValue<string>(out var text) ? text : "";
            var held = data?["heldAgent"] is JsonValue h && h.TryGetValue<bool>(out var b) && b;
            body.Raw("<tr>").Element("td", ConsolePages.Time(alert.Time)).Element("td", alert.AgentId is null ? "" : names.GetValueOrDefault(alert.AgentId, alert.AgentId))
                .Element("td", alert.Status).Element("td", held ? summary + " (the agent was put under approval)" : summary, "summary")
                .Raw("<td class=\"data\"><details><summary>details</summary><pre tabindex=\"0\">").Text(RunPages.Pretty(data?["details"]?.ToJsonString() ?? alert.Data), multiline: true).Raw("</pre></details></td></tr>");
        }

        body.Raw("</tbody></table></div></section>");
    }

    private static async Task<(List<AuditRecord> Records, bool Complete)> ReadAsync(AgentAdmin admin, string kind, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var records = new List<AuditRecord>();
        var query = new AuditQuery { Kind = kind, From = since };
        for (var page = 0; page < MaxAuditPages; page++)
        {
            var batch = await admin.QueryAuditAsync(query, cancellationToken);
            records.AddRange(batch);
            if (batch.Count == 0 || (batch.Count < query.Limit && batch.Sum(r => (long)r.Data.Length) < query.MaxDataChars))
            {
                return (records, true);
            }

            query = query with { AfterSequence = batch[^1].Sequence };
        }

        return (records, false);
    }
}
