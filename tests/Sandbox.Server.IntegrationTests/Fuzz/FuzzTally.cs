using System.Collections.Concurrent;
using System.Globalization;

namespace Sandbox.Server.IntegrationTests.Fuzz;

/// <summary>The fuzzer's counts, by status class and family, and the first failures in full (thread-safe).</summary>
internal sealed class FuzzTally
{
    private const int MaxFailuresKept = 20;
    private static readonly string[] s_classes = ["2xx", "3xx", "4xx", "5xx", "none"];
    private readonly ConcurrentDictionary<string, int> _byClass = new();
    private readonly ConcurrentDictionary<string, int> _byFamily = new();
    private readonly ConcurrentDictionary<int, int> _byStatus = new();
    private readonly ConcurrentQueue<string> _failures = new();
    private int _failureCount;
    private int _requests;

    public int Requests => _requests;

    public int FailureCount => _failureCount;

    public IEnumerable<string> Failures => _failures;

    public int Count(string statusClass) => _byClass.GetValueOrDefault(statusClass);

    public void Add(FuzzRequest request, int status)
    {
        Interlocked.Increment(ref _requests);
        // Every answer counts in its class, Kestrel's own refusals too: they are problems with a 4xx now (issue 17), never exempt.
        var statusClass = status == 0 ? "none" : $"{status / 100}xx";
        _byClass.AddOrUpdate(statusClass, 1, (_, n) => n + 1);
        _byFamily.AddOrUpdate(request.Family, 1, (_, n) => n + 1);
        _byStatus.AddOrUpdate(status, 1, (_, n) => n + 1);
    }

    public void Fail(int index, FuzzRequest request, string why, string response)
    {
        if (Interlocked.Increment(ref _failureCount) <= MaxFailuresKept)
        {
            _failures.Enqueue($"request {index} [{request.Family}: {request.Mutation}]: {why}\n--- request\n{request.Describe()}\n--- response\n{(response.Length > 2048 ? response[..2048] + "…" : response)}");
        }
    }

    public string Classes() => string.Join(", ", s_classes.Select(c => $"{c} {Count(c)}"));

    public string Statuses() => string.Join(", ", _byStatus.OrderBy(p => p.Key).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value}")));

    public string Families() => string.Join(", ", _byFamily.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value}")));
}
