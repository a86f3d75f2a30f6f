using System.Globalization;
using System.Security.Cryptography;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Core.Text;

namespace Sandbox.Core.Artifacts;

/// <summary>
/// Decides, entry by entry, which files under <c>/tmp/outputs</c> come back, on every backend alike: each entry is
/// offered by its name, kind and size before any of its bytes are kept, so a file past a cap costs no memory. The
/// names and bytes are the program's, hence untrusted: only plain relative paths and regular files pass.
/// </summary>
public sealed class ArtifactGatherer
{
    /// <summary>How many dropped files are named one by one; the rest are summed up in one <see cref="DropReasons.NotListed"/> entry.</summary>
    public const int MaxDroppedListed = 32;

    private readonly ArtifactLimits _limits;
    private readonly List<RunArtifact> _artifacts = [];
    private readonly List<DroppedArtifact> _dropped = [];
    private readonly HashSet<string> _paths = new(StringComparer.Ordinal);
    private int _admitted;
    private long _admittedBytes;
    private long _notListed;

    public ArtifactGatherer(ArtifactLimits limits) => _limits = limits;

    /// <summary>
    /// Offers an entry: true when its bytes are to be kept and passed to <see cref="Add"/>; false when it is dropped
    /// (the drop is recorded here) or is a folder. The count and bytes are reserved at once, in the order offered.
    /// </summary>
    public bool Offer(string path, ArtifactEntryKind kind, long sizeBytes)
    {
        if (kind == ArtifactEntryKind.Directory)
        {
            return false;
        }

        if (RelativePath.Check(path) is { } problem)
        {
            return Drop(path, DropReasons.UnsafePath, sizeBytes, "the name " + problem);
        }

        if (kind != ArtifactEntryKind.File)
        {
            return Drop(path, DropReasons.NotARegularFile, null, kind == ArtifactEntryKind.SymbolicLink
                ? "a symbolic link; links are never followed"
                : "not a regular file (a hard link, pipe or device)");
        }

        if (!_paths.Add(path))
        {
            return Drop(path, DropReasons.UnsafePath, sizeBytes, "the same name came twice");
        }

        if (_admitted >= _limits.MaxFiles)
        {
            return Drop(path, DropReasons.TooManyFiles, sizeBytes, Invariant($"past the first {_limits.MaxFiles} files (artifacts.maxFiles)"));
        }

        if (sizeBytes > _limits.MaxFileBytes)
        {
            return Drop(path, DropReasons.FileTooLarge, sizeBytes, Invariant($"{sizeBytes} bytes, more than the {_limits.MaxFileBytes} allowed for one file (artifacts.maxFileBytes)"));
        }

        if (_admittedBytes + sizeBytes > _limits.MaxTotalBytes)
        {
            return Drop(path, DropReasons.TotalTooLarge, sizeBytes, Invariant($"{sizeBytes} bytes would take the total past {_limits.MaxTotalBytes} (artifacts.maxTotalBytes)"));
        }

        _admitted++;
        _admittedBytes += sizeBytes;
        return true;
    }

    /// <summary>Keeps the bytes of an entry <see cref="Offer"/> admitted: hashed and typed here, from the bytes alone.</summary>
    public void Add(string path, ReadOnlyMemory<byte> content) => _artifacts.Add(new RunArtifact
    {
        Path = path,
        SizeBytes = content.Length,
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(content.Span)),
        MediaType = MediaTypes.Sniff(path, content.Span),
        Content = content,
    });

    /// <summary>Records an admitted entry whose bytes did not arrive whole.</summary>
    public void Incomplete(string path, long? sizeBytes, string detail) => Drop(path, DropReasons.Incomplete, sizeBytes, detail);

    /// <summary>The files that came back, in the order offered.</summary>
    public IReadOnlyList<RunArtifact> Artifacts => _artifacts;

    /// <summary>The files that did not, each with its reason; past <see cref="MaxDroppedListed"/> one entry sums up the rest.</summary>
    public IReadOnlyList<DroppedArtifact> Dropped => _notListed == 0
        ? _dropped
        : [.. _dropped, new DroppedArtifact
        {
            Path = "*",
            Reason = DropReasons.NotListed,
            Detail = Invariant($"{_notListed} more files were dropped; only the first {MaxDroppedListed} drops are listed"),
        }];

    private bool Drop(string path, string reason, long? sizeBytes, string detail)
    {
        if (_dropped.Count >= MaxDroppedListed)
        {
            _notListed++;
            return false;
        }

        // The name is the program's: shown escaped and cut, never used as a path.
        var shown = DisplayText.Escape(path.Length > RelativePath.MaxLength ? path[..RelativePath.MaxLength] + "…" : path, keepNewlinesAndTabs: false);
        _dropped.Add(new DroppedArtifact { Path = shown, Reason = reason, SizeBytes = sizeBytes, Detail = detail });
        return false;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
