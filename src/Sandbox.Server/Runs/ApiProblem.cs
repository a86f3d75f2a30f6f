using Sandbox.Core.Runs;

namespace Sandbox.Server.Runs;

/// <summary>
/// An expected failure of a call (bad input, overload, unknown run), shaped after RFC 9457 so HTTP can
/// send it as problem details and MCP can turn it into a tool error with the same words.
/// </summary>
public sealed record ApiProblem
{
    /// <summary>The HTTP status it maps to: 400, 401, 403, 404, 409, 413, 422, 429, 503.</summary>
    public required int Status { get; init; }

    /// <summary>A short, stable code such as <c>invalid_request</c> or <c>queue_full</c>; the problem type URI ends with it.</summary>
    public required string Code { get; init; }

    public required string Title { get; init; }

    /// <summary>What went wrong and what to do about it.</summary>
    public required string Detail { get; init; }

    /// <summary>For invalid input: each problem, naming its field.</summary>
    public IReadOnlyList<FieldError>? Errors { get; init; }

    /// <summary>For <c>cap_exceeded</c> (429): which of the agent's caps was reached.</summary>
    public string? Cap { get; init; }

    /// <summary>For 429 and 503: when trying again makes sense.</summary>
    public int? RetryAfterSeconds { get; init; }

    public static ApiProblem Invalid(IReadOnlyList<FieldError> errors) => new()
    {
        Status = 400,
        Code = "invalid_request",
        Title = "The request is invalid",
        Detail = string.Join("; ", errors.Select(e => e.ToString())),
        Errors = errors,
    };

    /// <summary>A 429 for one of the agent's caps: the one shape every route answers it in.</summary>
    /// <summary>503 <c>store_unavailable</c>: the guard store failed a write (a full disk, a read-only file); <paramref name="detail"/> says what did not happen.</summary>
    public static ApiProblem StoreUnavailable(string title, string detail) => new()
    {
        Status = 503,
        Code = "store_unavailable",
        Title = title,
        Detail = detail,
        RetryAfterSeconds = 5,
    };

    public static ApiProblem CapExceeded(string cap, string reason, int? retryAfterSeconds) => new()
    {
        Status = 429,
        Code = "cap_exceeded",
        Title = $"Over the {cap} cap",
        Detail = reason,
        Cap = cap,
        RetryAfterSeconds = retryAfterSeconds,
    };

    public static ApiProblem NotFound(string id) => new()
    {
        Status = 404,
        Code = "run_not_found",
        Title = "No such run",
        Detail = $"no run '{id}' is known here; results are kept for a limited time after they complete",
    };
}

/// <summary>The answer to a call: a run, or the problem that stopped it.</summary>
public sealed record GatewayResult(RunView? Run, ApiProblem? Problem)
{
    public static GatewayResult Of(RunView run) => new(run, null);

    public static GatewayResult Of(ApiProblem problem) => new(null, problem);
}
