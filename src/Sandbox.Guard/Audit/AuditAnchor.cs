using System.Globalization;

namespace Sandbox.Guard.Audit;

/// <summary>
/// A record's sequence number and hash, written down somewhere the audit file's holder cannot reach (a ticket,
/// another host, the service's own log shipped off the machine). The chain alone proves that no record was
/// changed, removed or reordered <em>between</em> records; it cannot tell that records were cut off the end,
/// or that the whole log was rewritten by someone holding the file. An anchor can: the record it names must
/// still be there, with the same hash. Written and parsed as <c>SEQ:HASH</c>.
/// </summary>
public sealed record AuditAnchor(long Sequence, string Hash)
{
    /// <summary>The empty log's head: sequence 0 and the genesis hash.</summary>
    public static AuditAnchor Genesis { get; } = new(0, AuditChain.Genesis);

    public override string ToString() => $"{Sequence.ToString(CultureInfo.InvariantCulture)}:{Hash}";

    /// <summary>Parses <c>SEQ:HASH</c>; on failure <paramref name="error"/> says what is wrong, for the caller to name its field.</summary>
    public static bool TryParse(string? text, out AuditAnchor? anchor, out string? error)
    {
        anchor = null;
        error = null;
        var colon = text?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (text is null || colon < 0)
        {
            error = $"'{text}' is not SEQ:HASH (e.g. 1234:{new string('a', 64)}), as `sandbox audit verify` prints after 'head'";
            return false;
        }

        var sequenceText = text[..colon];
        var hash = text[(colon + 1)..];
        if (!long.TryParse(sequenceText, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            error = $"'{sequenceText}' is not a record's sequence number (0 or more)";
            return false;
        }

        if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigitLower))
        {
            error = $"'{hash}' is not a SHA-256 hash (64 lowercase hex digits)";
            return false;
        }

        anchor = new AuditAnchor(sequence, hash);
        return true;
    }
}
