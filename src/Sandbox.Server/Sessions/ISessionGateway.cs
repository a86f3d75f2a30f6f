using Sandbox.Core.Runs;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Sessions;

/// <summary>What the MCP server needs for sessions, whether they live in this process or behind a remote service.</summary>
public interface ISessionGateway
{
    /// <summary>Opens a session and waits until its interpreter answers.</summary>
    Task<SessionAnswer> OpenAsync(SessionRequestBody request, CancellationToken cancellationToken);

    /// <summary>Closes a session now; answers once its container is gone.</summary>
    Task<SessionAnswer> CloseAsync(string id, CancellationToken cancellationToken);

    /// <summary>Runs one cell in the session and waits for its result (a run), or the problem that refused it.</summary>
    Task<GatewayResult> RunCellAsync(string id, RunRequest request, CancellationToken cancellationToken);
}

/// <summary>A session, or the problem that refused the call.</summary>
public sealed record SessionAnswer(SessionView? Session, ApiProblem? Problem);
