using System.CommandLine;
using System.Globalization;

namespace Sandbox.Cli.Commands;

/// <summary>A point in time given on the command line: an absolute instant, or a span before now.</summary>
internal sealed record TimeBound(DateTimeOffset? At, TimeSpan? Ago)
{
    public DateTimeOffset Resolve(TimeProvider time) => At ?? time.GetUtcNow() - Ago!.Value;
}

/// <summary>
/// Parsing of <c>--expires-in 90d</c> and <c>--since 2h</c>/<c>--since 2025-01-31T12:00:00Z</c>. Errors are
/// reported by the parser, naming the option, so they are usage errors (exit 2) before anything runs.
/// </summary>
internal static class TimeArguments
{
    /// <summary><c>&lt;n&gt;d</c>, <c>&lt;n&gt;h</c> or <c>&lt;n&gt;m</c>, with n a whole number from 1 to 99999.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        if (text.Length < 2 || text.Length > 6
            || !int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
        {
            return false;
        }

        duration = text[^1] switch
        {
            'd' => TimeSpan.FromDays(n),
            'h' => TimeSpan.FromHours(n),
            'm' => TimeSpan.FromMinutes(n),
            _ => TimeSpan.Zero,
        };
        return duration > TimeSpan.Zero;
    }

    public static Option<TimeSpan?> DurationOption(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (TryParseDuration(text, out var duration))
            {
                return duration;
            }

            result.AddError($"{name} must be a whole number of days, hours or minutes such as 90d, 12h or 30m (got '{text}')");
            return null;
        },
    };

    /// <summary>An option taking an ISO 8601 time (UTC unless it says otherwise) or a span ago such as 30m, 2h or 7d.</summary>
    public static Option<TimeBound?> TimeBoundOption(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (TryParseDuration(text, out var ago))
            {
                return new TimeBound(null, ago);
            }

            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var at))
            {
                return new TimeBound(at.ToUniversalTime(), null);
            }

            result.AddError($"{name} must be an ISO 8601 time such as 2025-01-31T12:00:00Z, or a span ago such as 30m, 2h or 7d (got '{text}')");
            return null;
        },
    };
}
