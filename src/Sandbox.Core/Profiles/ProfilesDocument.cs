namespace Sandbox.Core.Profiles;

/// <summary>The shape of a profiles file: <c>{ "profiles": { "python": { ... } } }</c>.</summary>
public sealed record ProfilesDocument
{
    public required Dictionary<string, Profile> Profiles { get; init; }
}
