using Sandbox.Core.Limits;

namespace Sandbox.Server.Runs;

/// <summary>A profile as the language list needs it when it stands in for a default the caller may not use.</summary>
internal sealed record ProfileSummary(string Name, string Backend, string? Description, ResourceLimits Limits);

/// <summary>
/// The languages narrowed to one caller's allow-list, so what a model is offered (the tool description, the
/// <c>language</c> enum, list_languages) is what it may run: a language offered and then refused teaches the model
/// to guess. A language stays if any of its profiles is allowed; its profiles are the allowed ones, and when its
/// default is not allowed the first allowed profile (with its own limits) takes the default's place.
/// </summary>
internal static class AllowedLanguages
{
    /// <param name="languages">Every language the Sandbox runs.</param>
    /// <param name="allows">Whether the caller may use a profile.</param>
    /// <param name="profile">A profile's backend and limits by name; null when unknown (the language is then left out rather than shown with another profile's limits).</param>
    public static IReadOnlyList<LanguageView> For(IReadOnlyList<LanguageView> languages, Func<string, bool> allows, Func<string, ProfileSummary?> profile)
    {
        var allowed = new List<LanguageView>();
        foreach (var language in languages)
        {
            var profiles = language.Profiles.Where(allows).ToList();
            if (profiles.Count == 0)
            {
                continue;
            }

            if (profiles[0] == language.DefaultProfile)
            {
                allowed.Add(language with { Profiles = profiles });
            }
            else if (profile(profiles[0]) is { } stand)
            {
                allowed.Add(language with { DefaultProfile = stand.Name, Backend = stand.Backend, Description = stand.Description, Limits = stand.Limits, Profiles = profiles });
            }
        }

        return allowed;
    }
}
