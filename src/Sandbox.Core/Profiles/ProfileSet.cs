namespace Sandbox.Core.Profiles;

/// <summary>A validated, immutable set of profiles. Built only through <see cref="ProfileLoader"/> or <see cref="Create"/>.</summary>
public sealed class ProfileSet
{
    private readonly Dictionary<string, Profile> _byName;

    private ProfileSet(Dictionary<string, Profile> byName) => _byName = byName;

    public IReadOnlyCollection<Profile> All => _byName.Values;

    /// <summary>The languages that have a default profile (one named after the language).</summary>
    public IReadOnlyList<string> Languages =>
        [.. _byName.Values.Where(p => p.Name == p.Language).Select(p => p.Language).Order(StringComparer.Ordinal)];

    public bool TryGet(string name, out Profile profile) => _byName.TryGetValue(name, out profile!);

    /// <summary>Validates every profile and builds the set, or throws with every error at once.</summary>
    public static ProfileSet Create(IReadOnlyDictionary<string, Profile> profiles)
    {
        var errors = ProfileValidator.Validate(profiles);
        if (errors.Count > 0)
        {
            throw new ProfileConfigurationException(errors);
        }

        return new ProfileSet(profiles.ToDictionary(kv => kv.Key, kv => kv.Value with { Name = kv.Key }, StringComparer.Ordinal));
    }
}
