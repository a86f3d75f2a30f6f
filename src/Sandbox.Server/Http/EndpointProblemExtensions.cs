using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Sandbox.Server.Http;

/// <summary>How an endpoint declares its problem answers for the OpenAPI document.</summary>
internal static class EndpointProblemExtensions
{
    /// <summary>Declares each status as an <c>application/problem+json</c> answer of the endpoint.</summary>
    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params ReadOnlySpan<int> statusCodes)
    {
        foreach (var statusCode in statusCodes)
        {
            builder.ProducesProblem(statusCode);
        }

        return builder;
    }
}
