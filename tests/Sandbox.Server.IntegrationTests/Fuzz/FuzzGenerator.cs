using System.Globalization;
using System.Text;

namespace Sandbox.Server.IntegrationTests.Fuzz;

/// <summary>
/// Draws the fuzzer's requests. Request <c>i</c> of seed <c>s</c> comes from its own <see cref="Random"/> seeded
/// from both, so one failing request is rebuilt from the two numbers the summary prints, whatever ran in parallel.
/// Families: run bodies, token and admin bodies, headers, path and query junk, method and route mismatches, raw
/// framing, and a few valid cheap runs. Most requests are refused before anything runs: a mutated run body is a
/// dry run unless the real-run budget allows one more.
/// </summary>
internal sealed partial class FuzzGenerator
{
    private readonly int _seed;
    private readonly string _agentKey;
    private readonly string _adminKey;
    private readonly Func<Random, string?> _knownRun;
    private int _realRunsLeft;

    public FuzzGenerator(int seed, string agentKey, string adminKey, int realRuns, Func<Random, string?> knownRun)
    {
        _seed = seed;
        _agentKey = agentKey;
        _adminKey = adminKey;
        _realRunsLeft = realRuns;
        _knownRun = knownRun;
    }

    public FuzzRequest Next(int index)
    {
        var random = new Random(unchecked((_seed * 1_000_003) + index));
        return random.Next(100) switch
        {
            < 34 => RunBody(random),
            < 40 => TokenBody(random),
            < 50 => Admin(random),
            < 62 => Headers(random),
            < 76 => Paths(random),
            < 82 => Methods(random),
            < 94 => Framing(random),
            _ => ValidRun(random),
        };
    }

    /// <summary>Takes one from the budget of runs that really execute (thread-safe).</summary>
    private bool TakeRealRun() => Interlocked.Decrement(ref _realRunsLeft) >= 0;

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    /// <summary>Strings that have broken parsers, logs, terminals and problem texts elsewhere.</summary>
    private static readonly string[] s_hostileStrings =
    [
        "", " ", "\0", "a\0b", "\r\n", "\r\nX-Injected: 1", "\u001b[31mred\u001b[0m", "\u202Eevil\u202C", "\u200B\u200C\u200D", "\uFEFF",
        "\u2028\u2029", "\u0627\u0644\u0639\u0631\u0628\u064A\u0629", "e\u0301\u0301\u0301", "😀", "../../../../etc/passwd", "..\\..\\windows",
        "%00", "%2e%2e/", "${jndi:ldap://x/a}", "' OR 1=1 --", "<script>alert(1)</script>", "\\", "\"", "{{7*7}}", "NaN", "null", "-1",
        "/dev/zero", "CON", "a/../../b", "/abs/path", "\t", "\u0085", "\uFFFF", "\uDBFF\uDFFF",
    ];

    private static string HostileString(Random random) => random.Next(10) switch
    {
        0 => new string('A', Pick(random, [256, 4097, 70_000])),
        1 => string.Concat(Enumerable.Repeat("\u202E\u0000\u001b", random.Next(1, 200))),
        _ => Pick(random, s_hostileStrings),
    };

    /// <summary>A JSON string literal for <paramref name="value"/>, escaping what JSON requires and nothing else.</summary>
    private static string JsonString(string value)
    {
        var text = new StringBuilder("\"");
        foreach (var c in value)
        {
            text.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                < ' ' => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return text.Append('"').ToString();
    }

    /// <summary>Wrong types, boundary numbers and hostile strings, as raw JSON text (some of it not JSON at all).</summary>
    private static string HostileValue(Random random) => random.Next(30) switch
    {
        0 => "null",
        1 => Pick(random, ["true", "false"]),
        2 => "[]",
        3 => "{}",
        4 => "[null]",
        5 => "{\"a\":1}",
        6 => new string('[', 70) + new string(']', 70),
        7 => new string('[', 2000) + new string(']', 2000),
        8 => "\"\\ud800\"", // a lone surrogate
        9 => "\"\\udc00x\\ud800\"",
        10 => Pick(random, ["NaN", "Infinity", "-Infinity", "1e400", "01", "+1", ".5", "0x10", "1_000"]), // not JSON
        11 => Pick(random, ["\"NaN\"", "\"Infinity\"", "\"100\"", "\"-1\"", "\"1e308\""]),
        12 or 13 or 14 or 15 or 16 => Pick(random, s_boundaryNumbers),
        17 => random.NextInt64(long.MinValue, long.MaxValue).ToString(CultureInfo.InvariantCulture),
        18 => (random.NextDouble() * Math.Pow(10, random.Next(-20, 20))).ToString("R", CultureInfo.InvariantCulture),
        _ => JsonString(HostileString(random)),
    };

    private static readonly string[] s_boundaryNumbers =
    [
        "0", "-0", "-1", "1", "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967296", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "18446744073709551616", "1e308", "-1e308", "1.7976931348623157e308",
        "5e-324", "1.5", "0.1", "1e-9", "1E+2", "-0.0", "99999999999999999999999999999999", "1.0",
    ];
}
