using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Sandbox.Server.OperatorConsole;

/// <summary>
/// The console's sessions, in memory: this table is their one owner, and they die with the process (an operator signs in
/// again after a restart). A session lasts <see cref="Lifetime"/> from sign-in and ends at sign-out.
/// </summary>
internal sealed class ConsoleSessions
{
    /// <summary>How long a sign-in lasts; short enough that a forgotten browser does not hold the admin key's power for long.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    /// <summary>The most sessions held at once: only a correct admin key creates one, so this bounds memory, not attackers.</summary>
    public const int MaxSessions = 1000;

    private readonly ConcurrentDictionary<string, ConsoleSession> _sessions = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public ConsoleSessions(TimeProvider time) => _time = time;

    public int Count => _sessions.Count;

    /// <summary>A new session; its <see cref="ConsoleSession.Key"/> goes into the cookie and nowhere else.</summary>
    public ConsoleSession Create(string operatorName)
    {
        var now = _time.GetUtcNow();
        Prune(now);
        // 256 bits from a CSPRNG each: neither the cookie nor the CSRF token can be guessed.
        var session = new ConsoleSession(NewSecret(), NewSecret(), operatorName, now + Lifetime);
        if (_sessions.Count >= MaxSessions)
        {
            // The oldest goes first: a flood of sign-ins with the right key cannot grow the table without bound.
            foreach (var oldest in _sessions.OrderBy(s => s.Value.ExpiresAt).Take(_sessions.Count - MaxSessions + 1))
            {
                _sessions.TryRemove(oldest.Key, out _);
            }
        }

        _sessions[Hash(session.Key)] = session;
        return session;
    }

    /// <summary>The live session the cookie names, or null (none, unknown, signed out or expired; an expired one is removed).</summary>
    public ConsoleSession? Find(string? key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > 100)
        {
            return null;
        }

        // Looked up by hash, so the table's string comparison never runs on the secret itself.
        var hash = Hash(key);
        if (!_sessions.TryGetValue(hash, out var session))
        {
            return null;
        }

        if (_time.GetUtcNow() >= session.ExpiresAt)
        {
            _sessions.TryRemove(hash, out _);
            return null;
        }

        return session;
    }

    /// <summary>Signs out: the cookie's key stops working at once, whatever the browser keeps.</summary>
    public void End(ConsoleSession session) => _sessions.TryRemove(Hash(session.Key), out _);

    /// <summary>True when <paramref name="presented"/> is the session's CSRF token, compared in constant time.</summary>
    public static bool IsCsrfToken(ConsoleSession session, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(session.CsrfToken)));

    private void Prune(DateTimeOffset now)
    {
        foreach (var (hash, session) in _sessions)
        {
            if (now >= session.ExpiresAt)
            {
                _sessions.TryRemove(hash, out _);
            }
        }
    }

    private static string NewSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Hash(string key) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
