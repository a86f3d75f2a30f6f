using Sandbox.Core.Runs;

namespace Sandbox.Core.Execution;

/// <summary>
/// A long-lived sandbox that runs cells one after another in one interpreter, so variables, imports and files persist
/// between them. A cell is a run like any other (the same plan, receipt, limits and result); only where it executes differs.
/// </summary>
public interface IExecutionSession
{
    /// <summary>The session's id (<c>ses_…</c>), recorded with each cell's receipt.</summary>
    string Id { get; }

    /// <summary>The profile the session was opened with; every cell runs under it.</summary>
    string ProfileName { get; }

    /// <summary>Runs one cell. Program failures and limit kills are results; only broken infrastructure throws.</summary>
    Task<RunResult> ExecuteAsync(RunPlan plan, CancellationToken cancellationToken);
}
