using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sandbox.Server.OperatorConsole;

/// <summary>
/// The console's log lines: who signed in and what each operator did. The audit log keeps the decisions and agent
/// changes; these put them in the service's own log as well, beside the runs they touch. Never a key or a cookie.
/// </summary>
internal static partial class ConsoleLog
{
    public static ILogger For(HttpContext context) =>
        context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sandbox.Server.OperatorConsole");

    [LoggerMessage(1, LogLevel.Information, "Console: operator {Operator} signed in")]
    public static partial void SignedIn(ILogger logger, string @operator);

    [LoggerMessage(2, LogLevel.Information, "Console: operator {Operator} signed out")]
    public static partial void SignedOut(ILogger logger, string @operator);

    [LoggerMessage(3, LogLevel.Warning, "Console: run {RunId} of agent {Agent} cancelled by operator {Operator}: {Outcome}")]
    public static partial void RunCancelled(ILogger logger, string runId, string agent, string @operator, string outcome);

    [LoggerMessage(4, LogLevel.Information, "Console: agent {Agent} created by operator {Operator}")]
    public static partial void AgentCreated(ILogger logger, string agent, string @operator);

    [LoggerMessage(5, LogLevel.Warning, "Console: the key of agent {Agent} rotated by operator {Operator}; {Stopped} runs of the old key stopped")]
    public static partial void KeyRotated(ILogger logger, string agent, string @operator, int stopped);

    [LoggerMessage(6, LogLevel.Warning, "Console: agent {Agent} {Action} by operator {Operator}; {Stopped} runs stopped")]
    public static partial void AgentChanged(ILogger logger, string agent, string action, string @operator, int stopped);
}
