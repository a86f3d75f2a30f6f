namespace Sandbox.Core.Runs;

/// <summary>A file under <c>/tmp/outputs</c> that did not come back, and why (one of <see cref="Artifacts.DropReasons"/>).</summary>
public sealed record DroppedArtifact
{
    /// <summary>The name as the program gave it, made safe to show (control characters escaped); <c>*</c> for a summary of many.</summary>
    public required string Path { get; init; }

    /// <summary>A stable code: <c>too_many_files</c>, <c>file_too_large</c>, <c>total_too_large</c>, <c>not_a_regular_file</c>, <c>unsafe_path</c>, <c>incomplete</c>.</summary>
    public required string Reason { get; init; }

    /// <summary>Its size as the program left it, when known.</summary>
    public long? SizeBytes { get; init; }

    /// <summary>What the reason means for this file, with the cap's value.</summary>
    public required string Detail { get; init; }
}
