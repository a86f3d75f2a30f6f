using Microsoft.Extensions.Time.Testing;

namespace Sandbox.Server.OperatorConsole.Tests;

public sealed class ConsoleSessionsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 6, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Create_GivesUnguessableDistinctSecrets_AndAnExpiry()
    {
        var sessions = new ConsoleSessions(_time);

        var a = sessions.Create("alice");
        var b = sessions.Create("alice");

        a.Key.ShouldNotBe(b.Key);
        a.CsrfToken.ShouldNotBe(a.Key);
        a.Key.Length.ShouldBeGreaterThanOrEqualTo(43); // 256 bits in base64url
        a.ExpiresAt.ShouldBe(_time.GetUtcNow() + ConsoleSessions.Lifetime);
        sessions.Find(a.Key).ShouldBe(a);
    }

    [Fact]
    public void Find_AtExpiry_IsNullAndRemoved()
    {
        var sessions = new ConsoleSessions(_time);
        var session = sessions.Create("alice");

        _time.Advance(ConsoleSessions.Lifetime - TimeSpan.FromSeconds(1));
        sessions.Find(session.Key).ShouldNotBeNull();
        _time.Advance(TimeSpan.FromSeconds(1));

        sessions.Find(session.Key).ShouldBeNull();
        sessions.Count.ShouldBe(0);
    }

    [Fact]
    public void End_KillsTheSessionAtOnce()
    {
        var sessions = new ConsoleSessions(_time);
        var session = sessions.Create("alice");

        sessions.End(session);

        sessions.Find(session.Key).ShouldBeNull();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-session")]
    public void Find_UnknownKey_IsNull(string? key) => new ConsoleSessions(_time).Find(key).ShouldBeNull();

    [Fact]
    public void Find_TheCsrfTokenAsCookie_IsNull()
    {
        var sessions = new ConsoleSessions(_time);
        var session = sessions.Create("alice");

        sessions.Find(session.CsrfToken).ShouldBeNull();
    }

    [Fact]
    public void Create_PrunesExpiredSessions()
    {
        var sessions = new ConsoleSessions(_time);
        sessions.Create("old");
        _time.Advance(ConsoleSessions.Lifetime);

        sessions.Create("new");

        sessions.Count.ShouldBe(1);
    }

    [Fact]
    public void Create_PastTheCap_DropsTheOldest()
    {
        var sessions = new ConsoleSessions(_time);
        var first = sessions.Create("first");
        for (var i = 0; i < ConsoleSessions.MaxSessions; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            sessions.Create("more");
        }

        sessions.Count.ShouldBe(ConsoleSessions.MaxSessions);
        sessions.Find(first.Key).ShouldBeNull();
    }

    [Fact]
    public void IsCsrfToken_OnlyTheSessionsOwnToken()
    {
        var sessions = new ConsoleSessions(_time);
        var session = sessions.Create("alice");
        var other = sessions.Create("bob");

        ConsoleSessions.IsCsrfToken(session, session.CsrfToken).ShouldBeTrue();
        ConsoleSessions.IsCsrfToken(session, other.CsrfToken).ShouldBeFalse();
        ConsoleSessions.IsCsrfToken(session, session.CsrfToken[..^1]).ShouldBeFalse();
        ConsoleSessions.IsCsrfToken(session, "").ShouldBeFalse();
        ConsoleSessions.IsCsrfToken(session, null).ShouldBeFalse();
    }
}
