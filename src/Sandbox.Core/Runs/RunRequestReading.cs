namespace Sandbox.Core.Runs;

/// <summary>What <see cref="RunRequestReader"/> made of a JSON run request: the request, or why there is none.</summary>
public sealed record RunRequestReading
{
    /// <summary>The request, when the JSON held one with every field of the right type.</summary>
    public RunRequest? Request { get; init; }

    /// <summary>Each field that was wrong, by its path (<c>files[0].content</c>); empty when <see cref="Request"/> is set.</summary>
    public IReadOnlyList<FieldError> Errors { get; init; } = [];

    /// <summary>Set when the text is not one JSON object at all (broken syntax, an array, null): what is wrong with it.</summary>
    public string? Malformed { get; init; }

    /// <summary>The surface's own options (such as <c>dryRun</c>) that were given as <c>true</c>.</summary>
    public IReadOnlySet<string> Options { get; init; } = new HashSet<string>(StringComparer.Ordinal);
}
