namespace Sandbox.Core.Serialization;

/// <summary>What <see cref="StrictJson.Check"/> refused.</summary>
/// <param name="Field">The field's path (<c>limits.wallTimeMs</c>; empty for the root), or null when the text is not JSON at all.</param>
/// <param name="Message">What is wrong, and the fix.</param>
public sealed record StrictJsonError(string? Field, string Message);
