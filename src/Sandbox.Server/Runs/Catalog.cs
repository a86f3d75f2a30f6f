using Sandbox.Core.Profiles;

namespace Sandbox.Server.Runs;

/// <summary>What this Sandbox offers, derived from its profiles (and which backends are reachable).</summary>
internal static class Catalog
{
    /// <summary>Every language with a default profile, with its alternatives; a language whose default backend is down shows its fallback.</summary>
    public static IReadOnlyList<LanguageView> Languages(ProfileSet profiles, IReadOnlySet<string> unavailableBackends) =>
    [
        .. profiles.Languages.Select(language =>
        {
            profiles.TryGet(language, out var preferred);
            var effective = unavailableBackends.Contains(preferred.Backend) && profiles.TryGet($"{language}-{BackendNames.Wasm}", out var fallback)
                ? fallback
                : preferred;
            return new LanguageView
            {
                Language = language,
                DefaultProfile = effective.Name,
                Backend = effective.Backend,
                Description = effective.Description,
                Profiles = [effective.Name, .. profiles.All.Where(p => p.Language == language && p.Name != effective.Name).Select(p => p.Name).Order(StringComparer.Ordinal)],
                Limits = effective.Limits,
                Packages = effective.Packages,
            };
        }),
    ];
}
