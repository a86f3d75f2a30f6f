namespace Sandbox.Core.Runs;

/// <summary>An extra file placed next to the program, at a path relative to its working directory.</summary>
public sealed record InputFile
{
    /// <summary>Relative path; no <c>..</c> segments, no leading <c>/</c>, no NUL or control characters.</summary>
    public required string Path { get; init; }

    /// <summary>The file's text content (UTF-8).</summary>
    public required string Content { get; init; }
}
