using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Core.Runs;
using Sandbox.Guard;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Http;

/// <summary>
/// <c>/admin/v1</c>: the operator's API over agents, approvals and the audit log. It takes only the admin
/// key from configuration (<c>Sandbox:Guard:AdminKey</c>); agent keys are refused here, and with no admin key
/// configured every call is refused (fail closed). The same actions back the CLI (<see cref="AgentAdmin"/>).
/// </summary>
internal static class AdminEndpoints
{
    /// <summary>How long a revocation waits for the agent's runs to be confirmed dead before answering.</summary>
    private static readonly TimeSpan RevokeWait = TimeSpan.FromSeconds(5);

    public static void MapAdminEndpoints(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin/v1").WithTags("admin").AddEndpointFilter(RequireAdminAsync).WithMetadata(OpenApi.KeyRequirement.AdminKey);

        admin.MapPost("/agents", CreateAsync).WithName("CreateAgent").WithSummary("Create an agent; its key is in this answer only")
            .Accepts<CreateAgentBody>("application/json").Produces<IssuedKeyView>(StatusCodes.Status201Created)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status409Conflict);
        admin.MapGet("/agents", ListAsync).WithName("ListAgents").WithSummary("Every agent and its caps").Produces<IReadOnlyList<AgentView>>();
        admin.MapGet("/agents/{id}", ShowAsync).WithName("ShowAgent").WithSummary("One agent, its credentials and budgets").Produces<AgentDetailView>().ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/agents/{id}/rotate", RotateAsync).WithName("RotateKey").WithSummary("A new key; the old one stops working at once").Produces<IssuedKeyView>().ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        admin.MapPost("/agents/{id}/revoke", RevokeAsync).WithName("RevokeAgent").WithSummary("Revoke an agent: its keys and tokens stop working and its runs are killed").Produces<RevokedView>().ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        admin.MapPost("/agents/{id}/hold", (string id, HttpContext c, AgentAdmin a, TimeProvider t) => HoldAsync(id, true, c, a, t)).WithName("HoldAgent").WithSummary("Put an agent under approval").Produces<AgentView>().ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        admin.MapDelete("/agents/{id}/hold", (string id, HttpContext c, AgentAdmin a, TimeProvider t) => HoldAsync(id, false, c, a, t)).WithName("ReleaseAgent").WithSummary("Clear an agent's approval hold").Produces<AgentView>().ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        admin.MapGet("/approvals", ListApprovalsAsync).WithName("ListApprovals").WithSummary("Runs waiting for a human's decision").Produces<IReadOnlyList<ApprovalAdminView>>().ProducesProblem(StatusCodes.Status400BadRequest);
        admin.MapPost("/approvals/{id}/approve", (string id, HttpContext c, AgentAdmin a, RunLifecycle r) => DecideAsync(id, true, c, a, r)).WithName("Approve").WithSummary("Approve a pending run: it is queued at once").Produces<ApprovalAdminView>().ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        admin.MapPost("/approvals/{id}/deny", (string id, HttpContext c, AgentAdmin a, RunLifecycle r) => DecideAsync(id, false, c, a, r)).WithName("Deny").WithSummary("Deny a pending run: it completes as denied without running").Produces<ApprovalAdminView>().ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        admin.MapPost("/runs/{id}/replay", ReplayAsync).WithName("ReplayRun").WithSummary("Re-run a kept run with its stored inputs, receipted limits and pinned image, and compare the two")
            .Produces<ReplayView>().ProducesProblems(StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status503ServiceUnavailable);
        admin.MapGet("/audit", QueryAuditAsync).WithName("QueryAudit").WithSummary("Audit records, oldest first, filtered and paged by sequence").Produces<IReadOnlyList<AuditRecordView>>().ProducesProblem(StatusCodes.Status400BadRequest);
        admin.MapGet("/audit/verify", VerifyAuditAsync).WithName("VerifyAudit").WithSummary("Check the audit log's hash chain, optionally against saved anchors").Produces<AuditVerificationView>().ProducesProblem(StatusCodes.Status400BadRequest);
    }

    private static async ValueTask<object?> RequireAdminAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var options = http.RequestServices.GetRequiredService<GuardOptions>();
        var header = http.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : "";
        string? refusal = null;
        if (options.AdminKey is not { } adminKey)
        {
            return Problems.ToResult(new ApiProblem
            {
                Status = 403,
                Code = "admin_disabled",
                Title = "The admin API is disabled",
                Detail = "no admin key is configured; set Sandbox:Guard:AdminKey (at least 32 characters) to enable it, or use the `sandbox agents` CLI on this host",
            }, http);
        }
        else if (presented.StartsWith(AgentKeys.AgentKeyPrefix, StringComparison.Ordinal) || presented.StartsWith(AgentKeys.TaskTokenPrefix, StringComparison.Ordinal))
        {
            refusal = "agent keys cannot use the admin API; send the admin key";
        }
        else if (!IsAdminKey(presented, adminKey))
        {
            refusal = presented.Length == 0 ? "send the admin key as `Authorization: Bearer <key>`" : "the admin key is wrong";
        }

        if (refusal is not null)
        {
            // Through the guard's per-minute window, like agent keys: a flood of wrong admin keys is counted, not recorded one by one.
            var guard = http.RequestServices.GetRequiredService<RunGuard>();
            await guard.Keys.RecordAuthFailureAsync("admin_refused", $"{http.Request.Method} {http.Request.Path}", refusal, http.RequestAborted);
            return Problems.ToResult(Problems.Unauthorized("admin_key_required", refusal), http);
        }

        return await next(context);
    }

    /// <summary>The one comparison of a presented key with the admin key, for this API and the console's sign-in.</summary>
    internal static bool IsAdminKey(string presented, string adminKey) =>
        // Hashes first, so the comparison takes the same time whatever the lengths.
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(adminKey)));

    private static string Actor(AdminActionBody? body) => "admin:" + (string.IsNullOrWhiteSpace(body?.By) ? "api" : body.By.Trim());

    private static async Task<IResult> CreateAsync(HttpContext context, AgentAdmin admin, TimeProvider time)
    {
        var (body, problem) = await JsonBody.ReadAsync(context, ServerJsonContext.Default.CreateAgentBody, context.RequestAborted);
        if (problem is not null)
        {
            return Problems.ToResult(problem, context);
        }

        var defaults = new AgentSpec { Name = "", Profiles = [] };
        var spec = new AgentSpec
        {
            Name = body!.Name ?? "",
            Profiles = body.Profiles ?? [],
            RatePerMinute = body.RatePerMinute ?? defaults.RatePerMinute,
            MaxConcurrentRuns = body.MaxConcurrentRuns ?? defaults.MaxConcurrentRuns,
            DailyCpuSeconds = body.DailyCpuSeconds ?? defaults.DailyCpuSeconds,
            DailyRuns = body.DailyRuns ?? defaults.DailyRuns,
            MaxSessionMemoryMb = body.MaxSessionMemoryMb ?? defaults.MaxSessionMemoryMb,
            MaxOpenSessions = body.MaxOpenSessions ?? defaults.MaxOpenSessions,
            DailyStoredMb = body.DailyStoredMb ?? defaults.DailyStoredMb,
            ExpiresIn = body.ExpiresInDays is { } days ? TimeSpan.FromDays(Math.Clamp(days, -1, 100_000)) : defaults.ExpiresIn,
        };
        var result = await admin.CreateAsync(spec, "admin:api", context.RequestAborted);
        if (result.Failure == AdminFailure.Invalid && result.Errors is { } errors)
        {
            // The store's field is a span; this API's is a number of days: name the field the caller sent.
            result = result with { Errors = errors.Select(e => e.Field == "expiresIn" ? e with { Field = "expiresInDays" } : e).ToList() };
        }

        return result.Ok
            ? TypedResults.Created($"/admin/v1/agents/{result.Value!.Agent.Id}", Issued(result.Value, time))
            : Failure(result, context);
    }

    private static async Task<IResult> ListAsync(AgentAdmin admin, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var agents = await admin.ListAgentsAsync(cancellationToken);
        return TypedResults.Ok<IReadOnlyList<AgentView>>(agents.Select(a => AgentView.Of(a, now)).ToList());
    }

    private static async Task<IResult> ShowAsync(string id, HttpContext context, AgentAdmin admin, TimeProvider time)
    {
        if (await admin.FindAgentAsync(id, context.RequestAborted) is not { } agent)
        {
            return Problems.ToResult(NotFound($"no agent '{id}'"), context);
        }

        var credentials = await admin.ListCredentialsAsync(agent.Id, context.RequestAborted);
        return TypedResults.Ok(new AgentDetailView(AgentView.Of(agent, time.GetUtcNow()), credentials.Select(CredentialView.Of).ToList()));
    }

    private static async Task<IResult> RotateAsync(string id, HttpContext context, AgentAdmin admin, RunLifecycle coordinator, TimeProvider time)
    {
        var (body, problem) = await JsonBody.ReadAsync(context, ServerJsonContext.Default.AdminActionBody, context.RequestAborted);
        if (problem is not null)
        {
            return Problems.ToResult(problem, context);
        }

        var result = await admin.RotateAsync(id, Actor(body), context.RequestAborted);
        if (!result.Ok)
        {
            return Failure(result, context);
        }

        // A rotation means the old key may have leaked: what it and its tokens started is killed before we answer, as a revocation does.
        await coordinator.CancelRevokedCredentialsAsync(result.Value!.Agent.Id, RevokeWait, context.RequestAborted);
        return TypedResults.Ok(Issued(result.Value!, time));
    }

    private static async Task<IResult> RevokeAsync(string id, HttpContext context, AgentAdmin admin, RunLifecycle coordinator, TimeProvider time)
    {
        var (body, problem) = await JsonBody.ReadAsync(context, ServerJsonContext.Default.AdminActionBody, context.RequestAborted);
        if (problem is not null)
        {
            return Problems.ToResult(problem, context);
        }

        var result = await admin.RevokeAsync(id, body!.Reason, Actor(body), context.RequestAborted);
        if (!result.Ok)
        {
            return Failure(result, context);
        }

        var agent = result.Value!;
        var stopped = await coordinator.CancelAgentAsync(agent.Id, $"agent '{agent.Name}' was revoked ({agent.RevokedReason})", RevokeWait);
        return TypedResults.Ok(new RevokedView(AgentView.Of(agent, time.GetUtcNow()), stopped));
    }

    /// <summary>Waits for the replay to complete (its own limits bound the wait) and answers both runs and their differences.</summary>
    private static async Task<IResult> ReplayAsync(string id, HttpContext context, RunLifecycle runs)
    {
        var (view, problem) = await runs.ReplayAsync(id, Actor(null), context.RequestAborted);
        return problem is not null ? Problems.ToResult(problem, context) : TypedResults.Ok(view);
    }

    private static async Task<IResult> HoldAsync(string id, bool hold, HttpContext context, AgentAdmin admin, TimeProvider time)
    {
        var (body, problem) = await JsonBody.ReadAsync(context, ServerJsonContext.Default.AdminActionBody, context.RequestAborted);
        if (problem is not null)
        {
            return Problems.ToResult(problem, context);
        }

        var result = await admin.SetUnderApprovalAsync(id, hold, body!.Reason, Actor(body), context.RequestAborted);
        return result.Ok ? TypedResults.Ok(AgentView.Of(result.Value!, time.GetUtcNow())) : Failure(result, context);
    }

    private static async Task<IResult> ListApprovalsAsync(HttpContext context, AgentAdmin admin, string? state)
    {
        ApprovalState? filter = state switch
        {
            null or "" or "pending" => ApprovalState.Pending,
            "approved" => ApprovalState.Approved,
            "denied" => ApprovalState.Denied,
            "expired" => ApprovalState.Expired,
            "all" => null,
            _ => (ApprovalState)(-1),
        };
        if (filter == (ApprovalState)(-1))
        {
            return Problems.ToResult(ApiProblem.Invalid([new FieldError("state", $"is '{state}'; use pending, approved, denied, expired or all")]), context);
        }

        var approvals = await admin.ListApprovalsAsync(filter, context.RequestAborted);
        return TypedResults.Ok<IReadOnlyList<ApprovalAdminView>>(approvals.Select(ApprovalAdminView.Of).ToList());
    }

    /// <summary><c>GET /admin/v1/audit/verify[?anchor=SEQ:HASH…]</c>: walks the chain, and checks each anchor kept from an earlier head.</summary>
    private static async Task<IResult> VerifyAuditAsync(HttpContext context, AgentAdmin admin)
    {
        var anchors = new List<AuditAnchor>();
        var errors = new List<FieldError>();
        foreach (var text in context.Request.Query["anchor"])
        {
            if (AuditAnchor.TryParse(text, out var anchor, out var error))
            {
                anchors.Add(anchor!);
            }
            else
            {
                errors.Add(new FieldError("anchor", error!));
            }
        }

        if (errors.Count > 0)
        {
            return Problems.ToResult(ApiProblem.Invalid(errors), context);
        }

        var verification = await admin.VerifyAuditAsync(anchors, context.RequestAborted);
        return TypedResults.Ok(AuditVerificationView.Of(verification, anchors.Count));
    }

    private static async Task<IResult> DecideAsync(string id, bool approve, HttpContext context, AgentAdmin admin, RunLifecycle coordinator)
    {
        var (body, problem) = await JsonBody.ReadAsync(context, ServerJsonContext.Default.AdminActionBody, context.RequestAborted);
        if (problem is not null)
        {
            return Problems.ToResult(problem, context);
        }

        var result = await admin.DecideAsync(id, approve, Actor(body), body!.Note ?? body.Reason, context.RequestAborted);
        if (!result.Ok)
        {
            return Failure(result, context);
        }

        // Applied now rather than at the next poll, so the run is queued (or rejected) by the time the operator sees the answer.
        await coordinator.WatchAsync(context.RequestAborted);
        return TypedResults.Ok(ApprovalAdminView.Of(result.Value!));
    }

    /// <summary>
    /// <c>GET /admin/v1/audit?…&amp;after=SEQ&amp;limit=N</c>: one page in sequence order, at most
    /// <see cref="AuditQuery.MaxPageSize"/> records (fewer when their data is large); when more may follow, a
    /// <c>Link: &lt;…after=LAST&gt;; rel="next"</c> header names the next page. Every parameter is parsed here, so a
    /// bad one is a problem naming it, never the framework's bare 400.
    /// </summary>
    private static async Task<IResult> QueryAuditAsync(HttpContext context, AgentAdmin admin, string? agent, string? run, string? kind, string? status, string? from, string? to, string? after, string? limit)
    {
        var errors = new List<FieldError>();
        var fromTime = ParseTime(from, "from", errors);
        var toTime = ParseTime(to, "to", errors);
        long afterSequence = 0;
        if (after is not null && (!long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out afterSequence)))
        {
            errors.Add(new FieldError("after", $"is '{Shorten(after)}'; use a sequence number, 0 or more (the last one of the previous page)"));
        }

        var pageSize = AuditQuery.MaxPageSize;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > AuditQuery.MaxPageSize))
        {
            errors.Add(new FieldError("limit", $"is '{Shorten(limit)}'; use 1 to {AuditQuery.MaxPageSize} and page on with 'after'"));
        }

        string? agentId = null;
        if (agent is { Length: > 0 })
        {
            agentId = (await admin.FindAgentAsync(agent, context.RequestAborted))?.Id;
            if (agentId is null)
            {
                errors.Add(new FieldError("agent", $"no agent '{Shorten(agent)}'"));
            }
        }

        if (errors.Count > 0)
        {
            return Problems.ToResult(ApiProblem.Invalid(errors), context);
        }

        var query = new AuditQuery
        {
            AgentId = agentId,
            RunId = run,
            Kind = kind,
            Status = status,
            From = fromTime,
            To = toTime,
            AfterSequence = afterSequence,
            Limit = pageSize,
        };
        var records = await admin.QueryAuditAsync(query, context.RequestAborted);
        if (records.Count > 0 && (records.Count == pageSize || records.Sum(r => (long)r.Data.Length) >= query.MaxDataChars))
        {
            // The page is full (in count or in bytes): more may follow after its last record.
            var next = QueryString.Create(context.Request.Query
                .Where(p => p.Key != "after")
                .SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v)))
                .Append(new("after", records[^1].Sequence.ToString(CultureInfo.InvariantCulture))));
            context.Response.Headers.Link = $"<{context.Request.PathBase}{context.Request.Path}{next}>; rel=\"next\"";
        }

        return TypedResults.Ok<IReadOnlyList<AuditRecordView>>(records.Select(AuditRecordView.Of).ToList());
    }

    // Values echoed into a problem are cut and stripped of control characters: they came from the caller.
    private static string Shorten(string value)
    {
        var clean = new string([.. value.Where(c => !char.IsControl(c) && !char.IsSurrogate(c)).Take(40)]);
        return clean.Length < value.Length ? clean + "…" : clean;
    }

    private static DateTimeOffset? ParseTime(string? text, string field, List<FieldError> errors)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }

        errors.Add(new FieldError(field, $"is '{Shorten(text)}'; use an ISO 8601 time such as 2026-11-21T09:00:00Z"));
        return null;
    }

    private static IssuedKeyView Issued(IssuedKey issued, TimeProvider time) =>
        new(AgentView.Of(issued.Agent, time.GetUtcNow()), issued.Key, issued.KeyId, "this key is shown once and stored only as a hash; keep it now");

    private static ApiProblem NotFound(string detail) => new() { Status = 404, Code = "not_found", Title = "Not found", Detail = detail };

    private static IResult Failure<T>(AdminResult<T> result, HttpContext context)
        where T : class => Problems.ToResult(result.Failure switch
        {
            AdminFailure.Invalid => ApiProblem.Invalid(result.Errors ?? []),
            AdminFailure.NotFound => NotFound(result.Message!),
            _ => new ApiProblem { Status = 409, Code = "conflict", Title = "Not possible in the current state", Detail = result.Message! },
        }, context);
}
