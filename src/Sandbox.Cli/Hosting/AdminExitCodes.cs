using Sandbox.Cli.Commands;
using Sandbox.Guard.Agents;

namespace Sandbox.Cli.Hosting;

/// <summary>
/// Exit codes of the operator's commands (<c>sandbox agents</c>, <c>approvals</c>, <c>audit</c>): few, so a
/// script can branch on them without a table.
/// </summary>
internal static class AdminExitCodes
{
    public const int Ok = 0;

    /// <summary>No such agent or approval, an action that does not apply in the current state, or a broken audit chain.</summary>
    public const int Failed = 1;

    /// <summary>A bad option value; the message names the field.</summary>
    public const int UsageError = CliExitCodes.UsageError;

    /// <summary>The profiles cannot be loaded, or the store is missing (for any command but <c>agents create</c>) or cannot be opened.</summary>
    public const int BadConfiguration = CommandSupport.BadProfiles;

    public static int For(AdminFailure failure) => failure switch
    {
        AdminFailure.None => Ok,
        AdminFailure.Invalid => UsageError,
        AdminFailure.NotFound or AdminFailure.Conflict => Failed,
        _ => Failed,
    };
}
