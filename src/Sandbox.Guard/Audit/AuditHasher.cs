using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Sandbox.Guard.Audit;

/// <summary>
/// Computes <see cref="AuditChain.ComputeHash(AuditRecord)"/> without building the canonical text: the JSON is
/// written straight into SHA-256 through one reused buffer, and <c>data</c> is read from a stream in chunks. A
/// verify over a log of any size then allocates a few small strings per record, never the record's data (a
/// refused 8 MiB request once made a 50 MB record, and the canonical text, its bytes and its string cost ten times that).
/// </summary>
public sealed class AuditHasher : IDisposable
{
    private const int ChunkBytes = 16 * 1024;

    private readonly ArrayBufferWriter<byte> _buffer = new(ChunkBytes * 8);
    private readonly Utf8JsonWriter _writer;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _chunk = new byte[ChunkBytes];

    public AuditHasher() => _writer = new Utf8JsonWriter(_buffer);

    /// <summary>The record's hash, with its <c>data</c> (UTF-8) read from <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The data is not valid UTF-8 (the record was changed behind the store's back).</exception>
    public string Hash(long sequence, string time, string kind, string? agentId, string? runId, string? status, Stream data, string previousHash)
    {
        ArgumentNullException.ThrowIfNull(data);
        _writer.Reset();
        _buffer.ResetWrittenCount();
        _writer.WriteStartArray();
        _writer.WriteNumberValue(sequence);
        _writer.WriteStringValue(time);
        _writer.WriteStringValue(kind);
        WriteNullable(agentId);
        WriteNullable(runId);
        WriteNullable(status);
        int read;
        while ((read = data.Read(_chunk)) > 0)
        {
            // Segments escape exactly as WriteStringValue does for the whole string, a character split between chunks included.
            _writer.WriteStringValueSegment(_chunk.AsSpan(0, read), isFinalSegment: false);
            Drain();
        }

        _writer.WriteStringValueSegment(ReadOnlySpan<byte>.Empty, isFinalSegment: true);
        _writer.WriteStringValue(previousHash);
        _writer.WriteEndArray();
        Drain();
        return Convert.ToHexStringLower(_hash.GetHashAndReset());
    }

    public void Dispose()
    {
        _writer.Dispose();
        _hash.Dispose();
    }

    private void Drain()
    {
        _writer.Flush();
        _hash.AppendData(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }

    private void WriteNullable(string? value)
    {
        if (value is null)
        {
            _writer.WriteNullValue();
        }
        else
        {
            _writer.WriteStringValue(value);
        }
    }
}
