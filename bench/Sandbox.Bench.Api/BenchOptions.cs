using System.Globalization;
using System.Net;

namespace Sandbox.Bench.Api;

/// <summary>
/// What to run: the service's address (loopback only), the concurrency levels, how many requests each level
/// sends, how many warm-up runs come first, and how long one request may take.
/// </summary>
internal sealed record BenchOptions
{
    public const string Usage =
        "usage: Sandbox.Bench.Api --url http://127.0.0.1:<port> [--concurrency 1,4,16] [--requests 20,40,80] [--interval-ms 0,0,0] [--warmup 3] [--timeout 120] [--backend docker|wasm] [--session python|javascript|bash]\n" +
        "       Sandbox.Bench.Api free-port   (prints a free loopback TCP port)\n" +
        "  --requests and --interval-ms take one value per level, or one for every level; --timeout is seconds per request.\n" +
        "  --warmup N: N sequential runs, then N more at the highest level's concurrency (if above 1), none of them counted.\n" +
        "  --interval-ms N: each worker starts a request at most every N ms (paced, so a warm pool can refill between runs); 0: back to back.\n" +
        "  --session python: opens a session, sets x = 1, and sends the cell `x + 1` (bash: `echo $((x + 1))`) instead of a run (concurrency 1 only: a session runs one cell at a time).";

    public required Uri BaseAddress { get; init; }

    public IReadOnlyList<int> Concurrency { get; init; } = [1, 4, 16];

    public IReadOnlyList<int> Requests { get; init; } = [20, 40, 80];

    /// <summary>Per level: the least time in milliseconds from one request's start to the same worker's next; 0 sends back to back.</summary>
    public IReadOnlyList<int> IntervalMs { get; init; } = [0, 0, 0];

    public int Warmup { get; init; } = 3;

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>The backend the Python hello world is forced onto (<c>wasm</c>: python-wasm in the WebAssembly worker); null for the default.</summary>
    public string? Backend { get; init; }

    /// <summary>With a language: cells of one warm session of it (<c>POST /v1/sessions/{id}/runs</c>) instead of runs; null for runs.</summary>
    public string? Session { get; init; }

    /// <summary>Parses the arguments; on failure returns null and says why in <paramref name="error"/>.</summary>
    public static BenchOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        Uri? url = null;
        int[] concurrency = [1, 4, 16];
        int[]? requests = null;
        int[]? intervals = null;
        var warmup = 3;
        var timeoutSeconds = 120;
        string? backend = null;
        string? session = null;
        error = null;
        for (var i = 0; i < args.Count; i++)
        {
            if (i + 1 >= args.Count)
            {
                error = $"{args[i]} needs a value";
                return null;
            }

            var name = args[i];
            var value = args[++i];
            switch (name)
            {
                case "--url":
                    url = Uri.TryCreate(value, UriKind.Absolute, out var u) ? u : null;
                    break;
                case "--concurrency":
                    concurrency = Counts(value, "--concurrency", minimum: 1, ref error) ?? [];
                    break;
                case "--requests":
                    requests = Counts(value, "--requests", minimum: 1, ref error);
                    break;
                case "--interval-ms":
                    intervals = Counts(value, "--interval-ms", minimum: 0, ref error);
                    break;
                case "--warmup":
                    warmup = Count(value, "--warmup", minimum: 0, ref error);
                    break;
                case "--timeout":
                    timeoutSeconds = Count(value, "--timeout", minimum: 1, ref error);
                    break;
                case "--backend":
                    backend = value;
                    error = value is "docker" or "wasm" ? null : "--backend must be docker or wasm";
                    break;
                case "--session":
                    session = value;
                    error = value is "python" or "javascript" or "bash" ? null : "--session must be python, javascript or bash (the languages with a session kernel)";
                    break;
                default:
                    error = $"unknown argument {name}";
                    return null;
            }

            if (error is not null)
            {
                return null;
            }
        }

        // Only a service on this machine is benchmarked: the bench floods whatever it is pointed at.
        if (url is null || url.Scheme != Uri.UriSchemeHttp || !IPAddress.TryParse(url.Host, out var ip) || !IPAddress.IsLoopback(ip))
        {
            error = "--url must be an http:// address on a loopback IP, such as http://127.0.0.1:18090";
            return null;
        }

        requests ??= concurrency.Length == 3 ? [20, 40, 80] : [.. concurrency.Select(c => Math.Max(20, 5 * c))];
        if (requests.Length == 1 && concurrency.Length > 1)
        {
            requests = [.. concurrency.Select(_ => requests[0])];
        }

        if (concurrency.Length == 0 || requests.Length != concurrency.Length)
        {
            error = $"--requests has {requests.Length} counts for {concurrency.Length} concurrency levels; give one per level or one for all";
            return null;
        }

        intervals ??= [0];
        if (intervals.Length == 1 && concurrency.Length > 1)
        {
            intervals = [.. concurrency.Select(_ => intervals[0])];
        }

        if (intervals.Length != concurrency.Length)
        {
            error = $"--interval-ms has {intervals.Length} values for {concurrency.Length} concurrency levels; give one per level or one for all";
            return null;
        }

        if (session is not null && concurrency.Any(c => c != 1))
        {
            error = "--session runs one cell at a time: give --concurrency 1";
            return null;
        }

        return new BenchOptions
        {
            Session = session,
            BaseAddress = url,
            Concurrency = concurrency,
            Requests = requests,
            IntervalMs = intervals,
            Warmup = warmup,
            RequestTimeout = TimeSpan.FromSeconds(timeoutSeconds),
            Backend = backend,
        };
    }

    private static int[]? Counts(string value, string name, int minimum, ref string? error)
    {
        var parts = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var counts = new int[parts.Length];
        for (var i = 0; i < parts.Length && error is null; i++)
        {
            counts[i] = Count(parts[i], name, minimum, ref error);
        }

        return error is null ? counts : null;
    }

    private static int Count(string value, string name, int minimum, ref string? error)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= 100_000 && n >= minimum)
        {
            return n;
        }

        error ??= $"{name}: '{value}' is not a whole number from {minimum} to 100000";
        return 0;
    }
}
