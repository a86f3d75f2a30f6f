using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Sandbox.Guard.Store;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Http;

/// <summary>
/// The guard store failing under any request that was not answered more precisely (a failed key audited, a token minted,
/// an operator's action recorded) is 503 <c>store_unavailable</c> with Retry-After, not a bare 500: the caller's request
/// was fine, our disk was not. The store's transactions roll back, so nothing of the request was kept.
/// </summary>
internal sealed partial class StoreFailureHandler(ILogger<StoreFailureHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!GuardStores.IsStoreFailure(exception) || httpContext.Response.HasStarted)
        {
            return false;
        }

        Log.StoreFailed(logger, httpContext.Request.Method, httpContext.Request.Path, exception);
        var problem = ApiProblem.StoreUnavailable("The service's store failed",
            "the service could not write its records (its store failed, for example a full disk), so nothing of this request was kept; retry later");
        await Problems.ToResult(problem, httpContext).ExecuteAsync(httpContext);
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "The guard store failed under {Method} {Path}; answered 503 store_unavailable")]
        public static partial void StoreFailed(ILogger logger, string method, string path, Exception exception);
    }
}
