namespace Sandbox.Core.Artifacts;

/// <summary>What an entry under <c>/tmp/outputs</c> is, as the backend saw it without following anything.</summary>
public enum ArtifactEntryKind
{
    /// <summary>A regular file: the only kind that comes back.</summary>
    File,

    /// <summary>A folder: walked, never returned itself.</summary>
    Directory,

    /// <summary>A symbolic link: never followed (it could name <c>/etc/passwd</c>).</summary>
    SymbolicLink,

    /// <summary>A hard link, pipe, device or anything else.</summary>
    Other,
}
