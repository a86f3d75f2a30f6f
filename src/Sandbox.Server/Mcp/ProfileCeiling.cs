using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;

namespace Sandbox.Server.Mcp;

/// <summary>
/// One profile's limits: the most a request on it may get. The MCP server uses them to tell a model how far
/// a limit can be raised ("the profile allows up to 512 MiB"). <see cref="Runs.LanguageView"/> carries only
/// the default profile's limits, so these come from the profiles themselves when the backends are local.
/// </summary>
internal sealed record ProfileCeiling(string Name, string Language, ResourceLimits Limits)
{
    public static IReadOnlyList<ProfileCeiling> From(ProfileSet profiles) =>
        [.. profiles.All.Select(p => new ProfileCeiling(p.Name, p.Language, p.Limits)).OrderBy(p => p.Name, StringComparer.Ordinal)];
}
