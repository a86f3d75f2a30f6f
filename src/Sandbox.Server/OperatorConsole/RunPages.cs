using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Core.Text;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Server.Http;
using Sandbox.Server.Output;
using Sandbox.Server.Runs;

namespace Sandbox.Server.OperatorConsole;

/// <summary>
/// The runs pages: the live list (pending, queued, running) with the recent results still held in memory, filtered by
/// agent and status; one run with its output streamed as it comes, its receipt, result and usage against its limits, and
/// a cancel button. The console sees every agent's runs, as the admin key does.
/// </summary>
internal static class RunPages
{
    /// <summary>The most rows the list shows: live runs first, then the latest results.</summary>
    internal const int MaxRows = 200;

    /// <summary>How long a cancel waits for the run's container to be gone before it answers, as <c>DELETE /v1/runs/{id}</c> does.</summary>
    private static readonly TimeSpan CancelWait = TimeSpan.FromSeconds(5);

    /// <summary>Indented, with non-ASCII left as it is: the page encodes it, and the operator reads the characters, not escapes.</summary>
    private static readonly JsonSerializerOptions s_pretty = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] s_states = ["live", "pending_approval", "queued", "running", "completed"];

    public static async Task<IResult> ListAsync(HttpContext context, ConsoleSession session)
    {
        var agent = context.Request.Query["agent"].FirstOrDefault() ?? "";
        var status = context.Request.Query["status"].FirstOrDefault() ?? "";
        var agents = await context.RequestServices.GetRequiredService<AgentAdmin>().ListAgentsAsync(context.RequestAborted);
        var rows = Rows(context, agent, status);
        var body = new ConsoleHtml()
            .Raw("<form method=\"get\" action=\"/console/runs\" class=\"filters\" role=\"search\" aria-label=\"Filter runs\">")
            .Raw("<label for=\"filter-agent\">Agent</label><select id=\"filter-agent\" name=\"agent\"><option value=\"\">every agent</option>");
        foreach (var a in agents.OrderBy(a => a.Name, StringComparer.Ordinal))
        {
            Option(body, a.Name, a.Name, agent);
        }

        body.Raw("</select><label for=\"filter-status\">Status</label><select id=\"filter-status\" name=\"status\"><option value=\"\">any</option>");
        foreach (var s in s_states.Concat(Enum.GetValues<RunStatus>().Select(s => s.ToWireName())))
        {
            Option(body, s, s == "live" ? "live (pending, queued, running)" : s, status);
        }

        var query = QueryString.Create([new KeyValuePair<string, string?>("agent", agent), new KeyValuePair<string, string?>("status", status)]);
        body.Raw("</select><button type=\"submit\">Filter</button></form>")
            .Raw("<div class=\"scroll\"><table id=\"runs\" data-src=\"/console/runs/list").Text(query.ToString()).Raw("\"><caption>Runs: live first, then the latest results kept in memory (")
            .Raw(string.Create(CultureInfo.InvariantCulture, $"at most {MaxRows}")).Raw("); this list refreshes itself</caption>")
            .Raw("<thead><tr><th scope=\"col\">Run</th><th scope=\"col\">Agent</th><th scope=\"col\">State</th><th scope=\"col\">Result</th><th scope=\"col\">Profile</th><th scope=\"col\">Created</th><th scope=\"col\">Purpose</th></tr></thead><tbody aria-live=\"polite\">");
        foreach (var row in rows)
        {
            body.Raw("<tr><td class=\"id\"><a href=\"").Text(row.Href).Raw("\">").Text(row.Id).Raw("</a></td>")
                .Element("td", row.Agent).Element("td", row.State).Element("td", row.Status).Element("td", row.Profile).Element("td", row.Created).Element("td", row.Purpose).Raw("</tr>");
        }

        body.Raw("</tbody></table></div>");
        if (rows.Count == 0)
        {
            body.Raw("<p id=\"empty\">No run matches.</p>");
        }

        return ConsolePages.Page("Runs", session, body);
    }

    /// <summary>The same rows as JSON, for the list's script: it rebuilds the table with text only, never markup.</summary>
    public static Task<IResult> ListJsonAsync(HttpContext context, ConsoleSession session) =>
        Task.FromResult(Results.Json(Rows(context, context.Request.Query["agent"].FirstOrDefault() ?? "", context.Request.Query["status"].FirstOrDefault() ?? ""), ConsoleJsonContext.Default.IReadOnlyListConsoleRunRow));

    public static async Task<IResult> ShowAsync(HttpContext context, ConsoleSession session, string id, string? message = null)
    {
        var lifecycle = context.RequestServices.GetRequiredService<RunLifecycle>();
        if (lifecycle.AllEntries().FirstOrDefault(e => e.Id == id) is not { } entry)
        {
            // Not in memory any more (its retention passed, or the service restarted): the audit log still has its records.
            return ConsolePages.Page("Not found", session, new ConsoleHtml().Raw("<p class=\"error\" role=\"alert\">No run '").Text(id)
                .Raw("' is held in memory. <a href=\"/console/audit?run=").Text(Uri.EscapeDataString(id)).Raw("\">Its audit records</a> remain.</p>"), StatusCodes.Status404NotFound);
        }

        var result = entry.Result;
        var body = new ConsoleHtml();
        if (message is not null)
        {
            body.Raw("<p class=\"error\" role=\"alert\">").Text(message).Raw("</p>");
        }

        body.Raw("<dl class=\"facts\">")
            .Raw("<dt>State</dt><dd id=\"state\">").Text(StateName(entry)).Raw("</dd>")
            .Raw("<dt>Agent</dt><dd id=\"agent\">").Text($"{entry.Principal.Agent.Name} ({entry.Principal.Agent.Id})").Raw("</dd>")
            .Raw("<dt>Purpose</dt><dd id=\"purpose\">").Text(entry.Plan.Request.Purpose).Raw("</dd>")
            .Raw("<dt>Profile</dt><dd>").Text(entry.Plan.Profile.Name).Raw("</dd>")
            .Raw("<dt>Language</dt><dd>").Text(entry.Plan.Request.Language).Raw("</dd>")
            .Raw("<dt>Backend</dt><dd>").Text($"{entry.Plan.Backend}, runtime {entry.Plan.Runtime}").Raw("</dd>")
            .Raw("<dt>Created</dt><dd>").Text(ConsolePages.Time(entry.CreatedAt)).Raw("</dd>")
            .Raw("<dt>Started</dt><dd>").Text(ConsolePages.Time(entry.StartedAt)).Raw("</dd>")
            .Raw("<dt>Completed</dt><dd>").Text(ConsolePages.Time(entry.CompletedAt)).Raw("</dd>")
            .Raw("<dt>Queued, ran</dt><dd>").Text(string.Create(CultureInfo.InvariantCulture, $"{entry.QueueMs?.ToString(CultureInfo.InvariantCulture) ?? "?"} ms, {entry.RunMs?.ToString(CultureInfo.InvariantCulture) ?? "?"} ms")).Raw("</dd>");
        if (entry.CancelReason is { } reason)
        {
            body.Raw("<dt>Cancelled because</dt><dd id=\"cancel-reason\">").Text(reason).Raw("</dd>");
        }

        if (entry.Approval is { } approval)
        {
            body.Raw("<dt>Approval</dt><dd><a href=\"/console/approvals/").Text(Uri.EscapeDataString(approval.Id)).Raw("\">").Text($"{approval.Id} ({ApprovalStates.Name(approval.State)})").Raw("</a></dd>");
        }

        body.Raw("</dl>");
        if (entry.State != RunState.Completed)
        {
            body.Raw("<form method=\"post\" class=\"inline\" action=\"/console/runs/").Text(Uri.EscapeDataString(entry.Id)).Raw("/cancel\">").Csrf(session)
                .Raw("<button type=\"submit\" id=\"cancel\" class=\"danger\">Cancel this run</button></form>");
        }

        if (result is not null)
        {
            body.Raw("<section aria-labelledby=\"result-title\"><h2 id=\"result-title\">Result</h2><dl class=\"facts\">")
                .Raw("<dt>Status</dt><dd id=\"result-status\">").Text(result.Status.ToWireName()).Raw("</dd>")
                .Raw("<dt>Exit code</dt><dd>").Text(result.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? (result.Signal is { } signal ? string.Create(CultureInfo.InvariantCulture, $"none (signal {signal})") : "none")).Raw("</dd>")
                .Raw("<dt>Message</dt><dd id=\"result-message\">").Text(result.Message).Raw("</dd>");
            if (result.LimitBreach is { } breach)
            {
                body.Raw("<dt>Limit breached</dt><dd class=\"bad\">").Text(string.Create(CultureInfo.InvariantCulture, $"{breach.Limit}: {breach.Observed} observed against {breach.Value}")).Raw("</dd>");
            }

            body.Raw("</dl></section>");
        }

        // Output: a completed run's from its result; a live run's streamed by the page's script from the first character on.
        var live = entry.State != RunState.Completed;
        body.Raw("<section aria-labelledby=\"output-title\" id=\"output\"");
        if (live)
        {
            body.Raw(" data-events=\"/console/runs/").Text(Uri.EscapeDataString(entry.Id)).Raw("/events\"");
        }

        body.Raw("><h2 id=\"output-title\">Output</h2>");
        if (entry.OutputDropped)
        {
            body.Raw("<p class=\"note\">This run's output is no longer kept: its agent's retained output passed its cap.</p>");
        }

        var (stdout, stderr, streamed) = Output(entry);
        body.Raw("<p class=\"note\" id=\"stream-state\" role=\"status\">").Text(live ? "Streaming as the program writes." : streamed ? "The result kept no output (the run was killed); shown is what it streamed before." : "").Raw("</p>")
            .Raw("<h3>stdout</h3><pre id=\"stdout\" tabindex=\"0\" aria-label=\"stdout\">").Text(stdout, multiline: true).Raw("</pre>")
            .Raw("<h3>stderr</h3><pre id=\"stderr\" tabindex=\"0\" aria-label=\"stderr\">").Text(stderr, multiline: true).Raw("</pre></section>");

        Artifacts(body, entry.Id, result);
        Usage(body, result?.Limits ?? entry.Plan.Limits, result?.Usage);
        await ReceiptAsync(context, body, entry.Id);
        return ConsolePages.Page($"Run {entry.Id}", session, body, message is null ? StatusCodes.Status200OK : StatusCodes.Status409Conflict);
    }

    /// <summary>
    /// One file the run returned, served as the agent's download serves it (<see cref="Http.ArtifactDownload"/>): the sniffed
    /// type, nosniff, a sandboxing CSP that replaces the console's, and only raster images inline.
    /// </summary>
    public static async Task<IResult> ArtifactAsync(HttpContext context, ConsoleSession session, string id, string path)
    {
        var lifecycle = context.RequestServices.GetRequiredService<RunLifecycle>();
        if (lifecycle.AllEntries().FirstOrDefault(e => e.Id == id) is not { } entry
            || await lifecycle.FindArtifactAsync(id, path, entry.Principal, context.RequestAborted) is not { Artifact: { } artifact })
        {
            return ConsolePages.Refused("Not found", $"run '{id}' returned no file '{path}'", session, StatusCodes.Status404NotFound);
        }

        return Http.ArtifactDownload.Serve(context, artifact);
    }

    /// <summary>
    /// The files the run returned from <c>/tmp/outputs</c>: each name (the program's, so shown as text) with its size, type
    /// and hash, a download link, raster images shown on the page from this origin; then the files that did not come back.
    /// </summary>
    private static void Artifacts(ConsoleHtml body, string runId, RunResult? result)
    {
        if (result is null || (result.Artifacts is not { Count: > 0 } && result.ArtifactsDropped is not { Count: > 0 }))
        {
            return;
        }

        body.Raw("<section aria-labelledby=\"artifacts-title\"><h2 id=\"artifacts-title\">Artifacts</h2>");
        if (result.Artifacts is { Count: > 0 } artifacts)
        {
            body.Raw("<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-labelledby=\"artifacts-title\"><table id=\"artifacts\"><thead><tr><th scope=\"col\">File</th><th scope=\"col\">Size (bytes)</th><th scope=\"col\">Type</th><th scope=\"col\">SHA-256</th></tr></thead><tbody>");
            foreach (var artifact in artifacts)
            {
                body.Raw("<tr><td><a href=\"").Text(ArtifactHref(runId, artifact.Path)).Raw("\">").Text(artifact.Path).Raw("</a></td>")
                    .Element("td", artifact.SizeBytes.ToString("N0", CultureInfo.InvariantCulture))
                    .Element("td", artifact.MediaType)
                    .Raw("<td><code>").Text(artifact.Sha256).Raw("</code></td></tr>");
            }

            body.Raw("</tbody></table></div>");
            foreach (var image in artifacts.Where(a => Core.Artifacts.MediaTypes.IsInlineImage(a.MediaType)))
            {
                body.Raw("<figure><img class=\"artifact\" src=\"").Text(ArtifactHref(runId, image.Path)).Raw("\" alt=\"").Text(image.Path).Raw("\"><figcaption>").Text(image.Path).Raw("</figcaption></figure>");
            }
        }

        if (result.ArtifactsDropped is { Count: > 0 } dropped)
        {
            body.Raw("<h3>Not returned</h3><ul id=\"artifacts-dropped\">");
            foreach (var file in dropped)
            {
                body.Raw("<li>").Text(file.Path).Raw(": ").Text(file.Reason).Raw("</li>");
            }

            body.Raw("</ul>");
        }

        body.Raw("</section>");
    }

    /// <summary>The console's URL of one file a run returned; each segment escaped on its own, so the name stays one path under this run whatever characters it holds.</summary>
    private static string ArtifactHref(string runId, string path) =>
        "/console/runs/" + Uri.EscapeDataString(runId) + "/artifacts/" + string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    /// <summary>Cancel: the same <see cref="RunLifecycle.CancelAsync"/> as <c>DELETE /v1/runs/{id}</c>, under the run's own agent, with the operator named as the reason.</summary>
    public static async Task<IResult> CancelAsync(HttpContext context, ConsoleSession session, string id)
    {
        var lifecycle = context.RequestServices.GetRequiredService<RunLifecycle>();
        if (lifecycle.AllEntries().FirstOrDefault(e => e.Id == id) is not { } entry)
        {
            return ConsolePages.Refused("Not found", $"no run '{id}' is held in memory", session, StatusCodes.Status404NotFound);
        }

        var outcome = await lifecycle.CancelAsync(id, entry.Principal, $"cancelled by {ApprovalPages.Actor(session)} in the console", CancelWait);
        ConsoleLog.RunCancelled(ConsoleLog.For(context), id, entry.Principal.Agent.Name, session.Operator, outcome.ToString());
        return outcome == CancelOutcome.AlreadyCompleted
            ? await ShowAsync(context, session, id, "the run completed before it could be cancelled")
            : Results.Redirect("/console/runs/" + Uri.EscapeDataString(id));
    }

    /// <summary>
    /// The run's events for the page's script, as <c>/v1/runs/{id}/events</c> streams them to the agent: state changes and
    /// output as it comes (made safe as the API makes it, then with control, bidi and format characters made visible, as
    /// the page shows them), ending with <c>result</c>, on which the script reloads the page to show the result.
    /// </summary>
    public static async Task EventsAsync(HttpContext context, ConsoleSession session, string id)
    {
        if (context.RequestServices.GetRequiredService<RunLifecycle>().AllEntries().FirstOrDefault(e => e.Id == id) is not { } entry)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        // EventSource sends the last id it saw when it reconnects: resume after it, so nothing shows twice.
        var lastId = context.Request.Headers["Last-Event-ID"].ToString();
        long next = 0;
        if (lastId.Length > 0 && (lastId.Length > 19 || !long.TryParse(lastId, NumberStyles.None, CultureInfo.InvariantCulture, out next) || next == long.MaxValue))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        next = lastId.Length > 0 ? next + 1 : 0;
        var cancellationToken = context.RequestAborted;
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers["X-Accel-Buffering"] = "no"; // proxies must not hold back what is meant to arrive as it happens
        await response.Body.FlushAsync(cancellationToken);
        try
        {
            while (true)
            {
                var (events, changed) = entry.ReadEvents(next);
                foreach (var e in events)
                {
                    next = e.Sequence + 1;
                    var text = e.Kind switch
                    {
                        "result" => "",
                        "state" => e.Text ?? "",
                        _ => DisplayText.Escape(Sanitize(e.Text ?? ""), keepNewlinesAndTabs: true),
                    };
                    var data = JsonSerializer.Serialize(new StreamText(text), ServerJsonContext.Default.StreamText);
                    await response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"id: {e.Sequence}\nevent: {e.Kind}\ndata: {data}\n\n"), Encoding.UTF8, cancellationToken);
                    if (e.Kind == "result")
                    {
                        await response.Body.FlushAsync(cancellationToken);
                        return;
                    }
                }

                await response.Body.FlushAsync(cancellationToken);
                await changed.WaitAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The page went away; the run carries on.
        }
    }

    /// <summary>The rows the list shows: live runs (newest first), then completed ones (latest first), filtered.</summary>
    internal static IReadOnlyList<ConsoleRunRow> Rows(HttpContext context, string agent, string status)
    {
        var entries = context.RequestServices.GetRequiredService<RunLifecycle>().AllEntries();
        return [.. entries
            .Select(e => (Entry: e, State: StateName(e)))
            .Where(r => agent.Length == 0 || r.Entry.Principal.Agent.Name == agent)
            .Where(r => Matches(r.Entry, r.State, status))
            .OrderBy(r => r.Entry.State == RunState.Completed ? 1 : 0)
            .ThenByDescending(r => r.Entry.CompletedAt ?? r.Entry.CreatedAt)
            .Take(MaxRows)
            .Select(r => new ConsoleRunRow(
                r.Entry.Id,
                "/console/runs/" + Uri.EscapeDataString(r.Entry.Id),
                DisplayText.Escape(r.Entry.Principal.Agent.Name, keepNewlinesAndTabs: false),
                r.State,
                r.Entry.Result?.Status.ToWireName() ?? "",
                r.Entry.Plan.Profile.Name,
                ConsolePages.Time(r.Entry.CreatedAt),
                Preview(r.Entry.Plan.Request.Purpose)))];
    }

    /// <summary>
    /// A completed run's output: its result's, or, when the result kept none (a cancelled or revoked run ends without its
    /// output), what its event stream carried before the end, made safe as the stream makes it. Nothing for a live run:
    /// the page's script streams it from the start.
    /// </summary>
    private static (string Stdout, string Stderr, bool Streamed) Output(RunEntry entry)
    {
        if (entry.Result is not { } result)
        {
            return ("", "", false);
        }

        if (result.Stdout.Length > 0 || result.Stderr.Length > 0 || entry.OutputDropped)
        {
            return (result.Stdout, result.Stderr, false);
        }

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        foreach (var e in entry.ReadEvents(0).Events)
        {
            (e.Kind == "stdout" ? stdout : e.Kind == "stderr" ? stderr : null)?.Append(e.Text);
        }

        return (Sanitize(stdout.ToString()), Sanitize(stderr.ToString()), stdout.Length + stderr.Length > 0);
    }

    private static bool Matches(RunEntry entry, string state, string status) => status switch
    {
        "" => true,
        "live" => state != "completed",
        "pending_approval" or "queued" or "running" or "completed" => state == status,
        _ => entry.Result?.Status.ToWireName() == status,
    };

    /// <summary>
    /// The state as <see cref="RunLifecycle.View"/> names it (an approved run waiting for its agent's slot is queued), without
    /// building the whole view: the list polls every 2 s, and a view carries a raw-output run's output in base64.
    /// </summary>
    private static string StateName(RunEntry entry) =>
        RunStateNames.Of(entry.State == RunState.PendingApproval && entry.Approval?.State == ApprovalState.Approved ? RunState.Queued : entry.State);

    /// <summary>What the run used against what it was allowed, from its result (nothing is measured until it ends).</summary>
    private static void Usage(ConsoleHtml body, ResourceLimits limits, ResourceUsage? usage)
    {
        body.Raw("<section aria-labelledby=\"usage-title\"><h2 id=\"usage-title\">Usage against limits</h2><div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-labelledby=\"usage-title\"><table id=\"usage\"><thead><tr><th scope=\"col\">Resource</th><th scope=\"col\">Used</th><th scope=\"col\">Limit</th><th scope=\"col\">Share</th></tr></thead><tbody>");
        UsageRow(body, "Wall time (ms)", usage?.WallMs, limits.WallTimeMs);
        UsageRow(body, "CPU time (ms)", usage?.CpuMs, limits.CpuTimeMs);
        UsageRow(body, "Peak memory (bytes)", usage?.PeakMemoryBytes, limits.MemoryBytes);
        UsageRow(body, "Output (bytes)", usage?.OutputBytes, limits.StdoutBytes + limits.StderrBytes);
        body.Raw("</tbody></table></div>");
        if (usage is null)
        {
            body.Raw("<p class=\"note\">Usage is measured when the run ends.</p>");
        }

        body.Raw("</section>");
    }

    private static void UsageRow(ConsoleHtml body, string name, long? used, long limit)
    {
        var share = used is { } u && limit > 0 ? (double)u / limit : (double?)null;
        body.Raw("<tr>").Element("td", name).Element("td", used?.ToString("N0", CultureInfo.InvariantCulture) ?? "–").Element("td", limit.ToString("N0", CultureInfo.InvariantCulture))
            .Raw("<td>");
        if (share is { } s)
        {
            var percent = Math.Clamp(s * 100, 0, 100);
            body.Raw("<meter min=\"0\" max=\"100\" value=\"").Text(percent.ToString("0.#", CultureInfo.InvariantCulture)).Raw("\" aria-label=\"").Text(name + " used").Raw("\"></meter> ")
                .Text((s * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %");
        }

        body.Raw("</td></tr>");
    }

    /// <summary>The receipt from the audit log: the effective plan (image digest, runtime, limits) written before the code started.</summary>
    private static async Task ReceiptAsync(HttpContext context, ConsoleHtml body, string runId)
    {
        var records = await context.RequestServices.GetRequiredService<AgentAdmin>().QueryAuditAsync(new AuditQuery { RunId = runId, Kind = AuditKinds.Receipt, Limit = 1 }, context.RequestAborted);
        body.Raw("<section aria-labelledby=\"receipt-title\" class=\"block receipt\"><h2 id=\"receipt-title\">Receipt</h2>");
        if (records.Count == 0)
        {
            body.Raw("<p>None yet: a receipt is written when the run is admitted to start.</p>");
        }
        else
        {
            var record = records[0];
            body.Raw("<p class=\"note\">").Text(string.Create(CultureInfo.InvariantCulture, $"Audit record {record.Sequence}, {ConsolePages.Time(record.Time)}, hash {record.Hash}")).Raw("</p>")
                .Raw("<pre tabindex=\"0\" aria-label=\"receipt\">").Text(Pretty(record.Data), multiline: true).Raw("</pre>");
        }

        body.Raw("<p><a href=\"/console/audit?run=").Text(Uri.EscapeDataString(runId)).Raw("\">Every audit record of this run</a></p></section>");
    }

    internal static string Pretty(string json)
    {
        try
        {
            return JsonNode.Parse(json)?.ToJsonString(s_pretty) ?? json;
        }
        catch (JsonException)
        {
            return json;
        }
    }

    private static void Option(ConsoleHtml body, string value, string label, string selected) =>
        body.Raw("<option value=\"").Text(value).Raw(value == selected ? "\" selected>" : "\">").Text(label).Raw("</option>");

    private static string Sanitize(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return OutputSanitizer.Sanitize(bytes, bytes.Length, int.MaxValue);
    }

    private static string Preview(string? text) => text is null ? "" : DisplayText.Escape(text.Length <= 80 ? text : text[..79] + "…", keepNewlinesAndTabs: false);
}

/// <summary>One row of the runs list as the list's script gets it: every field already text to show (made visible, never markup).</summary>
internal sealed record ConsoleRunRow(string Id, string Href, string Agent, string State, string Status, string Profile, string Created, string Purpose);
