using System.Text;
using Sandbox.Guard.Audit;

namespace Sandbox.Guard.Tests.Audit;

public sealed class AuditHasherTests
{
    /// <summary>A stream that hands out one byte per read, so every multi-byte character is split between chunks.</summary>
    private sealed class TrickleStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(1, buffer.Length)]);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("")]
    [InlineData("{\"code\":\"\\u003Cscript\\u003E\",\"q\":\"\\\"quoted\\\" & 'single' + plus\"}")]
    [InlineData("{\"text\":\"héllo wörld 日本語 🎉 \\n\\t\"}")]
    [InlineData("raw control \u0001 and \u007f and \u2028 and \u202e")]
    public void Hash_DataInChunks_IsTheSameAsTheCanonicalHash(string data)
    {
        using var hasher = new AuditHasher();
        var expected = AuditChain.ComputeHash(7, "2026-01-01T00:00:00.0000000Z", "result", "agt_1", null, "ok", data, AuditChain.Genesis);

        var whole = hasher.Hash(7, "2026-01-01T00:00:00.0000000Z", "result", "agt_1", null, "ok", new MemoryStream(Encoding.UTF8.GetBytes(data)), AuditChain.Genesis);
        var trickled = hasher.Hash(7, "2026-01-01T00:00:00.0000000Z", "result", "agt_1", null, "ok", new TrickleStream(Encoding.UTF8.GetBytes(data)), AuditChain.Genesis);

        whole.ShouldBe(expected);
        trickled.ShouldBe(expected);
    }

    [Fact]
    public void Hash_LargeData_IsTheSameAsTheCanonicalHash()
    {
        var data = "{\"code\":\"" + string.Concat(Enumerable.Repeat("\\u003C", 200_000)) + "é\"}";
        using var hasher = new AuditHasher();

        hasher.Hash(1, "t", "k", null, null, null, new MemoryStream(Encoding.UTF8.GetBytes(data)), AuditChain.Genesis)
            .ShouldBe(AuditChain.ComputeHash(1, "t", "k", null, null, null, data, AuditChain.Genesis));
    }
}
