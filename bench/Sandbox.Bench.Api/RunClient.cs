using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Sandbox.Bench.Api;

/// <summary>
/// Sends Python hello-world runs to <c>POST /v1/runs</c> and classifies each answer. One instance is shared by
/// every worker: <see cref="HttpClient"/> is thread-safe and its pool holds a connection per in-flight request.
/// </summary>
internal sealed class RunClient : IDisposable
{
    private readonly string _expected = "hello\n";
    private static readonly MediaTypeHeaderValue s_json = new("application/json");
    private readonly HttpClient _http;
    private readonly byte[] _body;
    private readonly string? _sessionLanguage;
    private Uri _target = new("/v1/runs", UriKind.Relative);

    public RunClient(Uri baseAddress, TimeSpan requestTimeout, int maxConnections, string? backend = null, string? session = null)
    {
        var handler = new SocketsHttpHandler
        {
            // One connection per worker, so requests never queue inside the client and the numbers are the service's.
            MaxConnectionsPerServer = maxConnections,
            // The target is loopback; an HTTP_PROXY in the environment must not reroute the traffic.
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        };
        _http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = requestTimeout };
        // The agent key eng/bench-api.sh created for the bench; every /v1 call needs one.
        if (Environment.GetEnvironmentVariable("SANDBOX_API_KEY") is { Length: > 0 } key)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        // Serialized once: every request sends the same bytes, so the client spends no time per request on JSON.
        _body = JsonSerializer.SerializeToUtf8Bytes(new RunRequestBody { Language = "python", Code = "print('hello')\n", Backend = backend }, ApiJsonContext.Default.RunRequestBody);
        if (session is not null)
        {
            // A warm cell: the interpreter and x are already there; only the cell's own work is measured.
            _sessionLanguage = session;
            _body = JsonSerializer.SerializeToUtf8Bytes(new RunRequestBody { Language = session, Code = Cell(session).Read }, ApiJsonContext.Default.RunRequestBody);
            _expected = "2\n";
        }
    }

    /// <summary>In session mode: opens the session and sets <c>x = 1</c>, untimed; a no-op for runs. Returns an error or null.</summary>
    public async Task<string?> PrepareAsync(CancellationToken cancellationToken)
    {
        if (_sessionLanguage is null)
        {
            return null;
        }

        using var open = await _http.PostAsync(new Uri("/v1/sessions", UriKind.Relative),
            new StringContent($"{{\"language\":\"{_sessionLanguage}\"}}", System.Text.Encoding.UTF8, "application/json"), cancellationToken);
        var opened = await open.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!open.IsSuccessStatusCode || Parse(opened, ApiJsonContext.Default.RunViewBody)?.Id is not { } id)
        {
            return $"opening a session answered {(int)open.StatusCode} {Parse(opened, ApiJsonContext.Default.ProblemBody)?.Code}";
        }

        _target = new Uri($"/v1/sessions/{id}/runs", UriKind.Relative);
        using var set = await _http.PostAsync(_target,
            new StringContent($"{{\"language\":\"{_sessionLanguage}\",\"code\":\"{Cell(_sessionLanguage).Set}\"}}", System.Text.Encoding.UTF8, "application/json"), cancellationToken);
        return set.IsSuccessStatusCode ? null : $"the cell {Cell(_sessionLanguage).Set} answered {(int)set.StatusCode}";
    }

    /// <summary>The cells that set x to 1 and print x + 1 in <paramref name="language"/> (Python and JavaScript print a last expression; bash echoes).</summary>
    private static (string Set, string Read) Cell(string language) => language == "bash" ? ("x=1", "echo $((x + 1))") : ("x = 1", "x + 1");

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// Every sample on <c>/metrics</c>, summed over its labels by family name (so the warm pool's idle gauge is the
    /// total over its pools); empty when the service does not answer.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, double>> ReadMetricsAsync(CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        try
        {
            var text = await _http.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancellationToken);
            foreach (var line in text.Split('\n'))
            {
                // name{labels} value: the value is after the last space; the name ends at the first brace or space.
                var space = line.LastIndexOf(' ');
                if (line.StartsWith('#') || space <= 0 || !double.TryParse(line.AsSpan(space + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    continue;
                }

                var end = line.IndexOfAny(['{', ' ']);
                var name = line[..end];
                values[name] = values.GetValueOrDefault(name) + value;
            }
        }
        catch (HttpRequestException)
        {
            // Settings and pool counts are reported as unknown; the load itself is what matters.
        }

        return values;
    }

    /// <summary>One run, start to finish. Never throws for an expected failure: it becomes an error sample.</summary>
    public async Task<RunSample> RunOnceAsync(CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(_body);
        content.Headers.ContentType = s_json;
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await _http.PostAsync(_target, content, cancellationToken);
            var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            var latency = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            return Classify(response, answer, latency);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new RunSample(SampleOutcome.Error, Stopwatch.GetElapsedTime(started).TotalMilliseconds, Error: $"no answer within {_http.Timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException ex)
        {
            return new RunSample(SampleOutcome.Error, Stopwatch.GetElapsedTime(started).TotalMilliseconds, Error: "transport: " + (ex.HttpRequestError == HttpRequestError.Unknown ? ex.Message : ex.HttpRequestError.ToString()));
        }
    }

    private RunSample Classify(HttpResponseMessage response, byte[] answer, double latency)
    {
        var status = (int)response.StatusCode;
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            var retryAfter = response.Headers.RetryAfter?.Delta is { } delta ? (int?)delta.TotalSeconds : null;
            var problem = Parse(answer, ApiJsonContext.Default.ProblemBody);
            return problem?.Code is "queue_full"
                ? new RunSample(SampleOutcome.Refused, latency, RetryAfterSeconds: retryAfter)
                : new RunSample(SampleOutcome.Refused, latency, RetryAfterSeconds: retryAfter, Error: $"429 with code {problem?.Code ?? "(none)"}, expected queue_full");
        }

        if (!response.IsSuccessStatusCode)
        {
            var problem = Parse(answer, ApiJsonContext.Default.ProblemBody);
            return new RunSample(SampleOutcome.Error, latency, Error: $"{status} {problem?.Code ?? response.ReasonPhrase}");
        }

        if (Parse(answer, ApiJsonContext.Default.RunViewBody) is not { } view)
        {
            return new RunSample(SampleOutcome.Error, latency, Error: $"{status} with a body that is not a run view");
        }

        if (view is { State: "completed", Result: { Status: "ok" } } && view.Result.Stdout == _expected)
        {
            return new RunSample(SampleOutcome.Ok, latency, view.QueueMs, view.RunMs);
        }

        var detail = view.Result is { } result ? $"status {result.Status}: {result.Message ?? "stdout " + JsonSerializer.Serialize(result.Stdout ?? "", ApiJsonContext.Default.String)}" : "state " + view.State;
        return new RunSample(SampleOutcome.Error, latency, view.QueueMs, view.RunMs, Error: $"{status} but {detail}");
    }

    private static T? Parse<T>(byte[] answer, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(answer, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
