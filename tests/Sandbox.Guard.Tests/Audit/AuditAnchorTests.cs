using Sandbox.Guard.Audit;

namespace Sandbox.Guard.Tests.Audit;

public sealed class AuditAnchorTests
{
    private static readonly string s_hash = new('a', 64);

    [Fact]
    public void TryParse_WhatToStringWrites_RoundTrips()
    {
        var anchor = new AuditAnchor(1234, s_hash);

        AuditAnchor.TryParse(anchor.ToString(), out var parsed, out var error).ShouldBeTrue(error);

        parsed.ShouldBe(anchor);
        anchor.ToString().ShouldBe($"1234:{s_hash}");
    }

    [Theory]
    [InlineData("", "not SEQ:HASH")]
    [InlineData("1234", "not SEQ:HASH")]
    [InlineData("-1:aaaa", "sequence number")]
    [InlineData("x:aaaa", "sequence number")]
    [InlineData("12:abc", "SHA-256")]
    [InlineData("12:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "SHA-256")]
    public void TryParse_Malformed_SaysWhatIsWrong(string text, string expected)
    {
        AuditAnchor.TryParse(text, out var parsed, out var error).ShouldBeFalse();

        parsed.ShouldBeNull();
        error.ShouldNotBeNull().ShouldContain(expected);
    }
}
