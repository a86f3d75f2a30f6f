using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Guard.Policy;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Http;

/// <summary><c>/v1/tokens</c> (an agent mints a narrower, short-lived task token) and <c>/v1/me</c> (its identity and budgets).</summary>
internal static class TokenEndpoints
{
    public static void MapTokenEndpoints(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("agents").RequireAgent();

        v1.MapPost("/tokens", MintAsync)
            .WithName("MintTaskToken")
            .WithSummary("Mint a task token narrower than this key: fewer profiles, at most an hour, its own smaller budget")
            .Accepts<TokenRequestBody>("application/json")
            .Produces<TokenView>()
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status429TooManyRequests);

        v1.MapGet("/me", MeAsync)
            .WithName("WhoAmI")
            .WithSummary("The agent behind this key, its allow-list and what remains of each budget")
            .Produces<MeView>()
            .ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    private static async Task<IResult> MintAsync(HttpContext context, RunGuard guard, TimeProvider time)
    {
        var (body, problem) = await JsonBody.ReadAsync(context, ServerJsonContext.Default.TokenRequestBody, context.RequestAborted);
        if (problem is not null)
        {
            return Problems.ToResult(problem, context);
        }

        // A token names what it may run: an empty body must not quietly mint one for every profile of the agent.
        // A task token may not mint at all, and the guard says so (403) whatever it asked for.
        if (body!.Profiles is null or [] && !context.Principal().IsTaskToken)
        {
            var allowed = string.Join(", ", context.Principal().Profiles);
            return Problems.ToResult(ApiProblem.Invalid([new Core.Runs.FieldError("profiles", $"is required: name the profiles the token may use, some of this key's ({allowed}), such as {{\"profiles\": [\"{(context.Principal().Profiles.Count > 0 ? context.Principal().Profiles[0] : "python")}\"]}}")]), context);
        }

        var outcome = await guard.Tokens.MintTokenAsync(context.Principal(), new TokenSpec
        {
            Profiles = body.Profiles,
            TtlSeconds = body.TtlSeconds,
            MaxRuns = body.MaxRuns,
            CpuSeconds = body.CpuSeconds,
            Purpose = body.Purpose,
        }, context.RequestAborted);
        if (outcome.Token is not { } token)
        {
            return Problems.ToResult(outcome.Status switch
            {
                403 => new ApiProblem { Status = 403, Code = "rejected", Title = "A task token cannot exceed its parent", Detail = "rejected: " + string.Join("; ", outcome.Errors!.Select(e => e.ToString())), Errors = outcome.Errors },
                429 => ApiProblem.CapExceeded(outcome.Cap!, outcome.Errors![0].Message, outcome.RetryAfterSeconds),
                _ => ApiProblem.Invalid(outcome.Errors!),
            }, context);
        }

        var c = outcome.Credential!;
        return TypedResults.Ok(new TokenView(token, c.Id, context.Principal().Agent.Name, c.Profiles!, c.ExpiresAt, c.MaxRuns ?? 0, c.CpuSeconds ?? 0));
    }

    private static async Task<IResult> MeAsync(HttpContext context, RunLifecycle lifecycle, TimeProvider time)
    {
        var principal = context.Principal();
        var budgets = await lifecycle.BudgetsAsync(principal, context.RequestAborted);
        return TypedResults.Ok(new MeView(AgentView.Of(principal.Agent, time.GetUtcNow()), CredentialView.Of(principal.Credential), budgets));
    }
}
