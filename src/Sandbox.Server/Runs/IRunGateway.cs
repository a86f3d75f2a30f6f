using Sandbox.Core.Runs;

namespace Sandbox.Server.Runs;

/// <summary>
/// What a front end (the MCP server) needs from Sandbox, whether the backends run in this process
/// (<see cref="LocalRunGateway"/>) or behind a remote Sandbox service (<c>--url</c>).
/// </summary>
public interface IRunGateway
{
    /// <summary>Runs code and waits for the result, or returns the problem that refused it.</summary>
    Task<GatewayResult> RunAsync(RunRequest request, CancellationToken cancellationToken);

    /// <summary>A run's state or result; a problem (404) for an unknown id.</summary>
    Task<GatewayResult> GetRunAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// The bytes of one file a run returned (a path its result lists), or null when they are not to be had; a gateway that
    /// cannot fetch artifacts answers null (the default), and the MCP result then links to the file instead of embedding it.
    /// </summary>
    Task<ReadOnlyMemory<byte>?> GetArtifactAsync(string runId, string path, CancellationToken cancellationToken) => Task.FromResult<ReadOnlyMemory<byte>?>(null);

    /// <summary>The languages this Sandbox runs, with default profiles and limits.</summary>
    Task<IReadOnlyList<LanguageView>> ListLanguagesAsync(CancellationToken cancellationToken);
}
