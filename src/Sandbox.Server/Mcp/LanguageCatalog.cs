using Sandbox.Core.Limits;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Mcp;

/// <summary>
/// What the tools know about languages and profiles at one moment: the gateway's languages plus, when known,
/// every profile's ceiling. Answers "what does this profile allow" and "which profile of this language allows
/// the most" for the hints.
/// </summary>
internal sealed class LanguageCatalog
{
    private readonly Dictionary<string, ProfileCeiling> _profiles = new(StringComparer.Ordinal);

    public LanguageCatalog(IReadOnlyList<LanguageView> languages, IReadOnlyList<ProfileCeiling>? profiles)
    {
        Languages = [.. languages.OrderBy(l => l.Language, StringComparer.Ordinal)];

        // The default profiles' limits come with the languages; the rest only when the profiles are known.
        foreach (var language in Languages)
        {
            _profiles[language.DefaultProfile] = new ProfileCeiling(language.DefaultProfile, language.Language, language.Limits);
        }

        foreach (var profile in profiles ?? [])
        {
            _profiles[profile.Name] = profile;
        }
    }

    public static LanguageCatalog Empty { get; } = new([], null);

    public IReadOnlyList<LanguageView> Languages { get; }

    public IEnumerable<string> LanguageNames => Languages.Select(l => l.Language);

    public LanguageView? Find(string? language) =>
        language is null ? null : Languages.FirstOrDefault(l => string.Equals(l.Language, language, StringComparison.Ordinal));

    /// <summary>A profile's value for one limit, when the profile is known.</summary>
    public long? ProfileLimit(string? profile, string limitName) =>
        profile is not null && _profiles.TryGetValue(profile, out var ceiling) ? ValueOf(ceiling.Limits, limitName) : null;

    /// <summary>The profile of <paramref name="language"/> that allows the most of one limit (the default profile wins ties).</summary>
    public (string Profile, long Value)? Largest(string? language, string limitName)
    {
        var defaultProfile = Find(language)?.DefaultProfile;
        return _profiles.Values
            .Where(p => string.Equals(p.Language, language, StringComparison.Ordinal) && ValueOf(p.Limits, limitName) is not null)
            .OrderByDescending(p => ValueOf(p.Limits, limitName))
            .ThenBy(p => p.Name == defaultProfile ? 0 : 1)
            .ThenBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => ((string Profile, long Value)?)(p.Name, ValueOf(p.Limits, limitName)!.Value))
            .FirstOrDefault();
    }

    private static long? ValueOf(ResourceLimits limits, string limitName)
    {
        foreach (var (name, value) in limits.Enumerate())
        {
            if (name == limitName)
            {
                return value;
            }
        }

        return null;
    }
}
