using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Sandbox.Guard.Audit;

/// <summary>
/// How a record is bound into the chain. The hashed text is a JSON array of every field plus the
/// previous record's hash, so no field can run into another, and changing, deleting or reordering a
/// record breaks the link to the next one. Stores must use exactly this: <c>audit verify</c> recomputes it.
/// </summary>
public static class AuditChain
{
    /// <summary>The previous hash of the first record.</summary>
    public static readonly string Genesis = new('0', 64);

    /// <summary>Times are hashed and stored in one fixed UTC format, so a round trip through the store cannot change them.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);

    public static string CanonicalText(long sequence, string time, string kind, string? agentId, string? runId, string? status, string data, string previousHash)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            writer.WriteNumberValue(sequence);
            writer.WriteStringValue(time);
            writer.WriteStringValue(kind);
            WriteNullable(writer, agentId);
            WriteNullable(writer, runId);
            WriteNullable(writer, status);
            writer.WriteStringValue(data);
            writer.WriteStringValue(previousHash);
            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string ComputeHash(long sequence, string time, string kind, string? agentId, string? runId, string? status, string data, string previousHash) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalText(sequence, time, kind, agentId, runId, status, data, previousHash))));

    /// <summary>The hash a record should have, from its own fields.</summary>
    public static string ComputeHash(AuditRecord record) =>
        ComputeHash(record.Sequence, FormatTime(record.Time), record.Kind, record.AgentId, record.RunId, record.Status, record.Data, record.PreviousHash);

    /// <summary>
    /// Checks records in sequence order against each other. Returns the first problem: a hash that does
    /// not match the record (changed), a previous hash that does not match the record before (deleted or
    /// reordered), or a gap or repeat in the sequence numbers.
    /// </summary>
    /// <remarks>
    /// Each of <paramref name="anchors"/> (heads copied elsewhere earlier) must still be in the chain with the
    /// same hash: a record it names that is gone means records were cut off the end; a different hash means the
    /// log was rewritten up to there. Neither shows in the chain itself.
    /// </remarks>
    /// <param name="recordsInOrder">The records, in sequence order.</param>
    /// <param name="anchors">Heads kept elsewhere earlier.</param>
    /// <param name="hashOf">
    /// The hash each record's contents come to; by default <see cref="ComputeHash(AuditRecord)"/>. A store that
    /// streams <c>data</c> through an <see cref="AuditHasher"/> passes records without it and supplies the hash here.
    /// </param>
    public static AuditVerification Verify(IEnumerable<AuditRecord> recordsInOrder, IReadOnlyCollection<AuditAnchor>? anchors = null, Func<AuditRecord, string>? hashOf = null)
    {
        hashOf ??= ComputeHash;
        anchors ??= [];
        var anchorAt = anchors.ToLookup(a => a.Sequence);
        if (anchorAt[0].FirstOrDefault(a => a.Hash != Genesis) is { } badGenesis)
        {
            return new AuditVerification(false, 0, 0, $"anchor {Abbreviate(badGenesis)} names record 0, which is always the genesis hash {Short(Genesis)}", null);
        }

        var previous = Genesis;
        long expected = 1;
        long checkedCount = 0;
        foreach (var record in recordsInOrder)
        {
            if (record.Sequence != expected)
            {
                return new AuditVerification(false, checkedCount, record.Sequence,
                    $"record {record.Sequence} follows record {expected - 1}: {(record.Sequence > expected ? $"records {expected}..{record.Sequence - 1} are missing" : "the sequence goes backwards")}", null);
            }

            if (!string.Equals(record.PreviousHash, previous, StringComparison.Ordinal))
            {
                return new AuditVerification(false, checkedCount, record.Sequence,
                    $"record {record.Sequence} does not link to record {record.Sequence - 1}: its previous hash is {Short(record.PreviousHash)}, but record {record.Sequence - 1} hashes to {Short(previous)} (a record was deleted, reordered or replaced)", null);
            }

            var actual = hashOf(record);
            if (!string.Equals(actual, record.Hash, StringComparison.Ordinal))
            {
                return new AuditVerification(false, checkedCount, record.Sequence,
                    $"record {record.Sequence} was changed after it was written: its contents hash to {Short(actual)}, but it says {Short(record.Hash)}", null);
            }

            if (anchorAt[record.Sequence].FirstOrDefault(a => !string.Equals(a.Hash, record.Hash, StringComparison.Ordinal)) is { } differs)
            {
                return new AuditVerification(false, checkedCount, record.Sequence,
                    $"record {record.Sequence} hashes to {Short(record.Hash)}, but anchor {Abbreviate(differs)} says {Short(differs.Hash)}: the log was rewritten from record {record.Sequence} or earlier, and rehashed so that the chain still links", null);
            }

            previous = record.Hash;
            expected++;
            checkedCount++;
        }

        if (anchors.Where(a => a.Sequence > checkedCount).MaxBy(a => a.Sequence) is { } beyond)
        {
            return new AuditVerification(false, checkedCount, checkedCount + 1,
                $"the log ends at record {checkedCount}, but anchor {Abbreviate(beyond)} says record {beyond.Sequence} existed: records {checkedCount + 1}..{beyond.Sequence} at least were cut off the end", null);
        }

        return new AuditVerification(true, checkedCount, null, null, previous);
    }

    private static string Abbreviate(AuditAnchor anchor) => $"{anchor.Sequence}:{Short(anchor.Hash)}";

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;

    private static void WriteNullable(Utf8JsonWriter writer, string? value)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }
}
