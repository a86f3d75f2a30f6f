namespace Sandbox.Core.Artifacts;

/// <summary>The stable codes of <see cref="Runs.DroppedArtifact.Reason"/>.</summary>
public static class DropReasons
{
    /// <summary>Past the profile's <c>artifacts.maxFiles</c>.</summary>
    public const string TooManyFiles = "too_many_files";

    /// <summary>Larger than the profile's <c>artifacts.maxFileBytes</c>.</summary>
    public const string FileTooLarge = "file_too_large";

    /// <summary>It would have taken the total past the profile's <c>artifacts.maxTotalBytes</c>.</summary>
    public const string TotalTooLarge = "total_too_large";

    /// <summary>A symbolic link, hard link, pipe or device: only regular files come back, and links are never followed.</summary>
    public const string NotARegularFile = "not_a_regular_file";

    /// <summary>A name that is not a plain relative path (<c>..</c>, absolute, control characters, too long).</summary>
    public const string UnsafePath = "unsafe_path";

    /// <summary>Its bytes did not arrive whole (the run was killed while they were handed out, or the stream was malformed).</summary>
    public const string Incomplete = "incomplete";

    /// <summary>A summary of drops past the listed ones (path <c>*</c>).</summary>
    public const string NotListed = "not_listed";
}
