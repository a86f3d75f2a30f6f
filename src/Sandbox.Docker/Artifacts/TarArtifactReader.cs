using System.Buffers;
using System.Text;
using Sandbox.Core.Artifacts;

namespace Sandbox.Docker.Artifacts;

/// <summary>
/// Reads the tar of <c>/tmp/outputs</c> as it streams in, pushed chunk by chunk, and offers each entry to an
/// <see cref="ArtifactGatherer"/> from its header alone: only the bytes of admitted files are kept, so a flood costs time
/// to skip, never memory. The stream is the program's to forge: a header with a bad checksum or size ends the reading
/// (what came whole is kept), names are checked by the gatherer, and links are never resolved.
/// </summary>
/// <remarks>Knows what GNU tar writes with <c>--format=gnu</c>: ustar headers, <c>L</c> long names, and skips the rest.</remarks>
internal sealed class TarArtifactReader
{
    private const int Block = 512;

    /// <summary>Longest long name kept; a longer one fails the gatherer's path check anyway (255 characters).</summary>
    private const int MaxLongName = 4096;

    private readonly ArtifactGatherer _gatherer;
    private readonly byte[] _header = new byte[Block];
    private int _headerFill;
    private State _state = State.Header;

    // The entry whose data is being read.
    private string _path = "";
    private long _size;
    private long _dataLeft;
    private long _padLeft;
    private byte[]? _keep;
    private int _keepFill;
    private bool _isLongName;
    private readonly ArrayBufferWriter<byte> _longName = new();
    private string? _pendingName;

    public TarArtifactReader(ArtifactGatherer gatherer) => _gatherer = gatherer;

    /// <summary>Every byte pushed, kept or not.</summary>
    public long TotalBytes { get; private set; }

    /// <summary>Whether the archive has ended (its end block, or a malformed header): nothing after it is read.</summary>
    public bool IsEnded => _state == State.Ended;

    private enum State
    {
        Header,
        Data,
        Padding,
        Ended,
    }

    public void Feed(ReadOnlySpan<byte> bytes)
    {
        TotalBytes += bytes.Length;
        while (!bytes.IsEmpty && _state != State.Ended)
        {
            switch (_state)
            {
                case State.Header:
                    var take = Math.Min(Block - _headerFill, bytes.Length);
                    bytes[..take].CopyTo(_header.AsSpan(_headerFill));
                    _headerFill += take;
                    bytes = bytes[take..];
                    if (_headerFill == Block)
                    {
                        _headerFill = 0;
                        ReadHeader();
                    }

                    break;

                case State.Data:
                    var part = (int)Math.Min(_dataLeft, bytes.Length);
                    if (_keep is not null)
                    {
                        bytes[..part].CopyTo(_keep.AsSpan(_keepFill));
                        _keepFill += part;
                    }
                    else if (_isLongName && _longName.WrittenCount < MaxLongName)
                    {
                        _longName.Write(bytes[..Math.Min(part, MaxLongName - _longName.WrittenCount)]);
                    }

                    _dataLeft -= part;
                    bytes = bytes[part..];
                    if (_dataLeft == 0)
                    {
                        EndData();
                    }

                    break;

                case State.Padding:
                    var pad = (int)Math.Min(_padLeft, bytes.Length);
                    _padLeft -= pad;
                    bytes = bytes[pad..];
                    if (_padLeft == 0)
                    {
                        _state = State.Header;
                    }

                    break;
            }
        }
    }

    /// <summary>At the end of the stream: a file cut short (the run was killed while it was handed out) is dropped, named.</summary>
    public void Complete()
    {
        if (_state == State.Data && _keep is not null)
        {
            _gatherer.Incomplete(_path, _size, $"only {_keepFill} of its {_size} bytes arrived before the run ended");
            _keep = null;
        }

        _state = State.Ended;
    }

    private void ReadHeader()
    {
        var header = _header.AsSpan();
        if (!header.ContainsAnyExcept((byte)0))
        {
            // The end-of-archive block: what follows (the second zero block, padding) carries nothing.
            _state = State.Ended;
            return;
        }

        if (!ChecksumMatches(header) || ParseOctal(header.Slice(124, 12)) is not { } size)
        {
            // Not a header tar wrote: nothing after it can be framed, so the reading stops here, and says so.
            _gatherer.Incomplete("*", null, "the rest of /tmp/outputs could not be read: the stream was malformed");
            _state = State.Ended;
            return;
        }

        var type = (char)header[156];
        var name = _pendingName ?? HeaderName(header);
        _pendingName = null;
        _size = size;
        _dataLeft = size;
        _padLeft = (Block - (size % Block)) % Block;
        _keep = null;
        _keepFill = 0;
        _isLongName = false;

        switch (type)
        {
            case 'L':
                _isLongName = true;
                _longName.ResetWrittenCount();
                break;
            case '0' or '\0' or '7':
                var path = Normalize(name);
                if (path.Length > 0 && _gatherer.Offer(path, ArtifactEntryKind.File, size))
                {
                    // The gatherer admitted it, so size is within the profile's per-file cap (at most 64 MiB).
                    _path = path;
                    _keep = new byte[checked((int)size)];
                }

                break;
            case '5':
                break;
            case 'K' or 'x' or 'g':
                // A long link target or pax extended header: GNU format only writes them for entries that are dropped anyway.
                break;
            default:
                var other = Normalize(name);
                if (other.Length > 0)
                {
                    _gatherer.Offer(other, type == '2' ? ArtifactEntryKind.SymbolicLink : ArtifactEntryKind.Other, size);
                }

                break;
        }

        if (_dataLeft == 0)
        {
            EndData();
        }
        else
        {
            _state = State.Data;
        }
    }

    private void EndData()
    {
        if (_keep is not null)
        {
            _gatherer.Add(_path, _keep);
            _keep = null;
        }
        else if (_isLongName)
        {
            var name = _longName.WrittenSpan;
            var end = name.IndexOf((byte)0);
            _pendingName = Encoding.UTF8.GetString(end >= 0 ? name[..end] : name);
            _isLongName = false;
        }

        _state = _padLeft == 0 ? State.Header : State.Padding;
    }

    /// <summary>The entry's name as tar wrote it (<c>./plots/a.png</c>): the ustar prefix joined when there is one.</summary>
    private static string HeaderName(ReadOnlySpan<byte> header)
    {
        var name = Field(header[..100]);
        // POSIX ustar ("ustar\0") may split a long name into prefix and name; GNU's magic ("ustar  ") never does.
        if (header.Slice(257, 6).SequenceEqual("ustar\0"u8) && Field(header.Slice(345, 155)) is { Length: > 0 } prefix)
        {
            name = prefix + "/" + name;
        }

        return name;
    }

    private static string Field(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end >= 0 ? field[..end] : field);
    }

    /// <summary>The path under the folder: tar's <c>./</c> taken off, a folder's trailing <c>/</c> too; empty for the folder itself.</summary>
    private static string Normalize(string name)
    {
        while (name.StartsWith("./", StringComparison.Ordinal))
        {
            name = name[2..];
        }

        return name is "." ? "" : name.TrimEnd('/');
    }

    private static bool ChecksumMatches(ReadOnlySpan<byte> header)
    {
        if (ParseOctal(header.Slice(148, 8)) is not { } stored)
        {
            return false;
        }

        long sum = 0;
        for (var i = 0; i < Block; i++)
        {
            // The checksum field counts as eight spaces.
            sum += i is >= 148 and < 156 ? (byte)' ' : header[i];
        }

        return sum == stored;
    }

    /// <summary>An octal number field (leading spaces, digits, then NUL or space); null for anything else, base-256 included.</summary>
    private static long? ParseOctal(ReadOnlySpan<byte> field)
    {
        var text = field.TrimStart((byte)' ');
        var end = text.IndexOfAny((byte)0, (byte)' ');
        text = end >= 0 ? text[..end] : text;
        if (text.IsEmpty || text.Length > 11)
        {
            return null;
        }

        long value = 0;
        foreach (var b in text)
        {
            if (b is < (byte)'0' or > (byte)'7')
            {
                return null;
            }

            value = value * 8 + (b - '0');
        }

        return value;
    }
}
