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
            return await next(context);
        }).WithMetadata(OpenApi.KeyRequirement.AgentKey);

    /// <summary>The caller, as the filter above established it.</summary>
    public static Principal Principal(this HttpContext context) =>
        context.Items[PrincipalKey] as Principal ?? throw new InvalidOperationException("the endpoint was mapped without RequireAgent()");
}
