using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Guard.Policy;

namespace Sandbox.Server.Http;

/// <summary>
/// Every call on an agent's behalf carries its key (<c>Authorization: Bearer sbxa_…</c> or a task token
/// <c>sbxt_…</c>). The key is checked against the store on every call, never cached, so a revocation
/// takes effect on the very next request.
/// </summary>
internal static class AgentAuthentication
{
    private static readonly object PrincipalKey = new();

    /// <summary>Refuses the group's calls with 401 unless the key is valid, unexpired and unrevoked.</summary>
    public static TBuilder RequireAgent<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var guard = http.RequestServices.GetRequiredService<RunGuard>();
            var outcome = await guard.Keys.AuthenticateAsync(http.Request.Headers.Authorization.ToString(), $"{http.Request.Method} {http.Request.Path}", http.RequestAborted);
            if (outcome.Principal is not { } principal)
            {
                return Problems.ToResult(Problems.Unauthorized(outcome.Code!, outcome.Message!), http);
            }

            http.Items[PrincipalKey] = principal;

            // A body is read whole into memory: its bytes are reserved before it is read, within the agent's share and the
            // service's total (RequestBodyBudget), and given back when the handler ends.
            var budget = http.RequestServices.GetRequiredService<RequestBodyBudget>();
            var bytes = budget.BytesOf(http.Request);
            if (bytes <= 0)
            {
                return await next(context);
            }

            var (lease, refused) = budget.TryReserve(http, principal.Agent.Id, principal.Agent.Name, bytes);
            if (refused is not null)
            {
                // Its body is never read: closing the connection after the answer spares Kestrel draining it into its
                // per-connection buffer (up to 1 MiB each), which 400 refused 7 MiB calls at once took to 660 MB.
                http.Response.Headers.Connection = "close";
                return Problems.ToResult(refused, http);
            }

            using (lease)
            {
                return await next(context);
            }
        }).WithMetadata(OpenApi.KeyRequirement.AgentKey);

    /// <summary>The caller, as the filter above established it.</summary>
    public static Principal Principal(this HttpContext context) =>
        context.Items[PrincipalKey] as Principal ?? throw new InvalidOperationException("the endpoint was mapped without RequireAgent()");
}
