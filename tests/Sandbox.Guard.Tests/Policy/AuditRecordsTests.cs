using System.Security.Cryptography;
using System.Text;
using Sandbox.Guard.Policy;

namespace Sandbox.Guard.Tests.Policy;

public sealed class AuditRecordsTests
{
    /// <summary>
    /// The hash is taken in slices (a request's code can be megabytes): it must be the hash of the whole text's UTF-8, at
    /// every length around a slice's edge, with a surrogate pair split across it, and with a lone surrogate (which UTF-8
    /// replaces) anywhere.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(4096)]
    [InlineData(4097)]
    [InlineData(12_289)]
    [InlineData(1_000_003)]
    public void Sha256_IsTheHashOfTheWholeTextsUtf8(int length)
    {
        var random = new Random(length);
        var text = new StringBuilder(length);
        while (text.Length < length)
        {
            text.Append(random.Next(6) switch
            {
                0 => "\U0001F600",                      // a surrogate pair, which may straddle a slice
                1 => "é",
                2 => "\uD800",                          // a lone high surrogate
                3 => "\uDC00",                          // a lone low surrogate
                _ => ((char)random.Next(32, 127)).ToString(),
            });
        }

        var whole = text.ToString(0, length);
        AuditRecords.Sha256(whole).ShouldBe(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(whole))));
    }

    [Fact]
    public void Sha256_ASurrogatePairOnTheSlicesEdge_IsNotSplit()
    {
        var text = new string('a', 4095) + "\U0001F600" + "b";
        AuditRecords.Sha256(text).ShouldBe(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))));
    }
}
