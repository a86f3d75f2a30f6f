using System.Buffers.Text;
using System.Text;

namespace Sandbox.Docker.Sessions;

/// <summary>
/// Finds the end of a cell in one output stream: <c>\0SBX-END &lt;nonce&gt; &lt;code&gt;\n</c>, written by the kernel once the
/// cell's code returned. What comes before it is the cell's output; a tail that could be the start of the marker is held back
/// until the next chunk says. The nonce is fresh per cell and never in the cell's namespace, so output cannot end a cell by
/// accident; a cell that digs it out of the kernel's frames only confuses its own session, whose limits the host still enforces.
/// </summary>
internal sealed class CellMarker
{
    /// <summary>Digits of an exit code and the newline: past this after the prefix, the marker is malformed.</summary>
    private const int MaxCodeBytes = 12;

    private readonly byte[] _prefix;
    private byte[] _held = [];

    public CellMarker(string nonce) => _prefix = Encoding.ASCII.GetBytes("\0SBX-END " + nonce + " ");

    /// <summary>Whether the marker was seen: the stream's part of the cell is over.</summary>
    public bool Seen { get; private set; }

    /// <summary>The code the marker carried (the cell's exit code on stdout), once seen.</summary>
    public int Code { get; private set; }

    /// <summary>Takes a chunk and returns the cell's output in it (nothing once the marker was seen).</summary>
    public byte[] Feed(ReadOnlySpan<byte> chunk)
    {
        if (Seen)
        {
            return [];
        }

        byte[] all = [.. _held, .. chunk];
        var at = all.AsSpan().IndexOf(_prefix);
        if (at >= 0)
        {
            var rest = all.AsSpan(at + _prefix.Length);
            var newline = rest.IndexOf((byte)'\n');
            if (newline < 0 && rest.Length <= MaxCodeBytes)
            {
                _held = all[at..];
                return all[..at];
            }

            Seen = true;
            _held = [];
            Code = newline >= 0 && Utf8Parser.TryParse(rest[..newline], out int code, out var used) && used == newline ? code : 1;
            return all[..at];
        }

        var keep = LongestPrefixSuffix(all);
        _held = all[(all.Length - keep)..];
        return all[..(all.Length - keep)];
    }

    /// <summary>What is held back: output after all when the stream ended without a marker (the kernel died).</summary>
    public byte[] Flush()
    {
        var held = Seen ? [] : _held;
        _held = [];
        return held;
    }

    /// <summary>The longest end of <paramref name="data"/> that is a start of the marker (shorter than the marker).</summary>
    private int LongestPrefixSuffix(ReadOnlySpan<byte> data)
    {
        for (var length = Math.Min(_prefix.Length - 1, data.Length); length > 0; length--)
        {
            if (data[^length..].SequenceEqual(_prefix.AsSpan(0, length)))
            {
                return length;
            }
        }

        return 0;
    }
}
