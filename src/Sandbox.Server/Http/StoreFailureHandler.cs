using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Http;

/// <summary>
/// A store that cannot write (a full or read-only disk, an I/O error) anywhere in a request becomes
/// <c>503 store_unavailable</c> with Retry-After, not a bare 500: the caller learns it is our disk, not its request,
/// and that retrying later may work (issue 11, fault 7). What the failed write belonged to was rolled back by SQLite.
/// </summary>
internal sealed partial class StoreFailureHandler : IExceptionHandler
{
    // SQLite primary result codes of a store that cannot take writes right now (https://sqlite.org/rescode.html).
    private const int SqliteBusy = 5;
    private const int SqliteReadOnly = 8;
    private const int SqliteIoError = 10;
    private const int SqliteFull = 13;
    private const int SqliteCantOpen = 14;

    private static readonly ApiProblem s_problem = new()
    {
        Status = StatusCodes.Status503ServiceUnavailable,
        Code = "store_unavailable",
        Title = "The service could not write its records",
        Detail = "the service's store could not be written (for example a full disk); the request was not carried out; retry later",
        RetryAfterSeconds = 5,
    };

    private readonly ILogger<StoreFailureHandler> _logger;

    public StoreFailureHandler(ILogger<StoreFailureHandler> logger)
    {
        _logger = logger;
    }

    /// <summary>Whether <paramref name="exception"/> (or one it wraps) is the store refusing a write, by SQLite's result code.</summary>
    public static bool IsStoreUnwritable(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SqliteException { SqliteErrorCode: SqliteBusy or SqliteReadOnly or SqliteIoError or SqliteFull or SqliteCantOpen })
            {
                return true;
            }
        }

        return false;
    }

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsStoreUnwritable(exception) || httpContext.Response.HasStarted)
        {
            return false;
        }

        Log.StoreUnwritable(_logger, httpContext.Request.Method, httpContext.Request.Path, exception);
        httpContext.Response.StatusCode = s_problem.Status;
        await Problems.ToResult(s_problem, httpContext).ExecuteAsync(httpContext);
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "The store could not be written during {Method} {Path}; answered 503 store_unavailable")]
        public static partial void StoreUnwritable(ILogger logger, string method, string path, Exception exception);
    }
}
