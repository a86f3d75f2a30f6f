using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sandbox.Core.Runs;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Mcp;

/// <summary>
/// <see cref="IRunGateway"/> over a remote Sandbox HTTP service (<c>sandbox mcp --url</c>): <c>POST /v1/runs</c>,
/// <c>GET /v1/runs/{id}</c>, <c>GET /v1/languages</c>. Problem details and transport failures come back as
/// <see cref="ApiProblem"/> values, never exceptions, so the MCP layer turns them into tool errors.
/// </summary>
public sealed partial class RemoteRunGateway : IRunGateway, IDisposable
{
    /// <summary>The environment variable holding the service's API key; sent as a bearer token when set.</summary>
    public const string ApiKeyVariable = "SANDBOX_API_KEY";

    private const string ProblemMediaType = "application/problem+json";

    private readonly HttpClient _http;
    private readonly Uri _baseUrl;
    private readonly TimeProvider _time;

    /// <param name="http">A client this gateway owns and disposes.</param>
    /// <param name="baseUrl">The service's root, such as <c>http://127.0.0.1:8080/</c>.</param>
    /// <param name="apiKey">Sent as <c>Authorization: Bearer</c> when not empty.</param>
    /// <param name="time">For <c>Retry-After</c> given as a date.</param>
    public RemoteRunGateway(HttpClient http, Uri baseUrl, string? apiKey, TimeProvider time)
    {
        if (!baseUrl.IsAbsoluteUri || baseUrl.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"the Sandbox service URL must be absolute http or https (got '{baseUrl}')", nameof(baseUrl));
        }

        _http = http;
        // A trailing slash makes relative paths extend the base (http://h/sandbox/ + v1/runs), not replace its last segment.
        _baseUrl = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
        _time = time;
        if (!string.IsNullOrEmpty(apiKey))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue(ProblemMediaType));
        // A run waits for its own wall-time limit plus its time in the queue; the service bounds both, and the
        // MCP client cancels a call it gives up on (notifications/cancelled reaches us as the token).
        _http.Timeout = Timeout.InfiniteTimeSpan;
    }

    /// <summary>A gateway to <paramref name="baseUrl"/> with the key from <see cref="ApiKeyVariable"/>.</summary>
    public static RemoteRunGateway Create(Uri baseUrl, TimeProvider time) =>
        new(new HttpClient(), baseUrl, Environment.GetEnvironmentVariable(ApiKeyVariable), time);

    public Uri BaseUrl => _baseUrl;

    public async Task<GatewayResult> RunAsync(RunRequest request, CancellationToken cancellationToken)
    {
        // cancelOnDisconnect: when the MCP client cancels the call (notifications/cancelled reaches us as the token),
        // HttpClient drops the connection and the service cancels the run, freeing the agent's slot. The POST waits for
        // the result, so the run's id is not known until it ends: the disconnect is the only handle on it we have.
        var body = JsonSerializer.SerializeToNode(request, McpJsonContext.Default.RunRequest)!.AsObject();
        body["cancelOnDisconnect"] = true;
        using var content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        return await SendForRunAsync(HttpMethod.Post, "v1/runs", content, cancellationToken);
    }

    public Task<GatewayResult> GetRunAsync(string id, CancellationToken cancellationToken) =>
        SendForRunAsync(HttpMethod.Get, "v1/runs/" + Uri.EscapeDataString(id), null, cancellationToken);

    public async Task<IReadOnlyList<LanguageView>> ListLanguagesAsync(CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri(_baseUrl, "v1/languages"), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var problem = await ReadProblemAsync(response, cancellationToken);
            throw new HttpRequestException($"GET v1/languages: {problem.Code}: {problem.Detail}", null, response.StatusCode);
        }

        var languages = await response.Content.ReadFromJsonAsync(McpJsonContext.Default.IReadOnlyListLanguageView, cancellationToken) ?? [];

        // The service answers for the key already; narrowing again by GET /v1/me keeps the model honest in front of an
        // older service whose list was everyone's.
        var me = await GetJsonAsync("v1/me", cancellationToken);
        var allowed = (me["credential"]?["profiles"] as JsonArray ?? me["agent"]?["profiles"] as JsonArray)?
            .Select(p => p?.GetValue<string>()).OfType<string>().ToHashSet(StringComparer.Ordinal) ?? [];
        Dictionary<string, ProfileSummary>? profiles = null;
        if (languages.Any(l => !allowed.Contains(l.DefaultProfile) && l.Profiles.Any(allowed.Contains)))
        {
            // Some default is off the allow-list: another profile stands in, with its own limits.
            profiles = (await GetJsonAsync("v1/profiles", cancellationToken)).AsArray().OfType<JsonNode>()
                .Select(p => new ProfileSummary(
                    p["name"]!.GetValue<string>(),
                    p["backend"]?.GetValue<string>() ?? "",
                    p["description"]?.GetValue<string>(),
                    p["limits"].Deserialize(McpJsonContext.Default.ResourceLimits)!))
                .ToDictionary(p => p.Name, StringComparer.Ordinal);
        }

        return AllowedLanguages.For(languages, allowed.Contains, name => profiles?.GetValueOrDefault(name));
    }

    private async Task<JsonNode> GetJsonAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri(_baseUrl, path), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var problem = await ReadProblemAsync(response, cancellationToken);
            throw new HttpRequestException($"GET {path}: {problem.Code}: {problem.Detail}", null, response.StatusCode);
        }

        return await JsonNode.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken)
            ?? throw new HttpRequestException($"GET {path}: an empty body", null, response.StatusCode);
    }

    public async Task<ReadOnlyMemory<byte>?> GetArtifactAsync(string runId, string path, CancellationToken cancellationToken)
    {
        // Each segment escaped on its own: the path's '/' separate folders, anything else in a name stays data.
        var escaped = string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
        try
        {
            using var response = await _http.GetAsync(new Uri(_baseUrl, $"v1/runs/{Uri.EscapeDataString(runId)}/artifacts/{escaped}"), cancellationToken);
            return response.IsSuccessStatusCode ? await response.Content.ReadAsByteArrayAsync(cancellationToken) : null;
        }
        catch (HttpRequestException)
        {
            // The result still names the file; the model gets a link instead of its bytes.
            return null;
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task<GatewayResult> SendForRunAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        try
        {
            using var message = new HttpRequestMessage(method, new Uri(_baseUrl, path)) { Content = content };
            using var response = await _http.SendAsync(message, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return GatewayResult.Of(await ReadProblemAsync(response, cancellationToken));
            }

            var run = await response.Content.ReadFromJsonAsync(McpJsonContext.Default.RunView, cancellationToken);
            return run is null ? GatewayResult.Of(Unreadable(response.StatusCode, "an empty body")) : GatewayResult.Of(run);
        }
        catch (HttpRequestException ex)
        {
            return GatewayResult.Of(new ApiProblem
            {
                Status = 503,
                Code = "service_unreachable",
                Title = "The Sandbox service cannot be reached",
                Detail = $"cannot reach the Sandbox service at {_baseUrl}: {ex.Message}",
                RetryAfterSeconds = 5,
            });
        }
        catch (JsonException)
        {
            return GatewayResult.Of(Unreadable(HttpStatusCode.OK, "a body that is not a run"));
        }
        catch (NotSupportedException)
        {
            // ReadFromJsonAsync throws this for a content type that is not JSON.
            return GatewayResult.Of(Unreadable(HttpStatusCode.OK, "a body that is not JSON"));
        }
    }

    /// <summary>Problem details when the body has them; otherwise a problem made from the status line.</summary>
    private async Task<ApiProblem> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ProblemDocument? document = null;
        if (response.Content.Headers.ContentType?.MediaType is ProblemMediaType or "application/json")
        {
            try
            {
                document = await response.Content.ReadFromJsonAsync(McpJsonContext.Default.ProblemDocument, cancellationToken);
            }
            catch (JsonException)
            {
                // A proxy's error page or a truncated body: fall back to the status line below.
            }
        }

        var status = (int)response.StatusCode;
        return new ApiProblem
        {
            Status = document?.Status ?? status,
            Code = document?.Code ?? CodeFromType(document?.Type) ?? DefaultCode(response.StatusCode),
            Title = document?.Title ?? response.ReasonPhrase ?? "The Sandbox service refused the request",
            Detail = document?.Detail ?? document?.Title ?? DefaultDetail(response.StatusCode),
            Errors = document?.Errors,
            RetryAfterSeconds = RetryAfter(response.Headers.RetryAfter),
        };
    }

    private int? RetryAfter(RetryConditionHeaderValue? header)
    {
        if (header?.Delta is { } delta)
        {
            return (int)Math.Ceiling(Math.Max(0, delta.TotalSeconds));
        }

        if (header?.Date is { } date)
        {
            return (int)Math.Ceiling(Math.Max(0, (date - _time.GetUtcNow()).TotalSeconds));
        }

        return null;
    }

    /// <summary>Our problem type URIs end with the code (…/problems/queue_full); use it when the code member is missing.</summary>
    private static string? CodeFromType(string? type) =>
        type is { Length: > 0 } && type != "about:blank" && type.TrimEnd('/').Split('/')[^1] is { Length: > 0 } last ? last : null;

    private static string DefaultCode(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => "invalid_request",
        HttpStatusCode.Unauthorized => "unauthorized",
        HttpStatusCode.Forbidden => "forbidden",
        HttpStatusCode.NotFound => "not_found",
        HttpStatusCode.RequestEntityTooLarge => "request_too_large",
        HttpStatusCode.TooManyRequests => "queue_full",
        HttpStatusCode.ServiceUnavailable => "unavailable",
        _ => "http_" + ((int)status).ToString(CultureInfo.InvariantCulture),
    };

    private static string DefaultDetail(HttpStatusCode status) => status switch
    {
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
            $"the Sandbox service refused the API key; the operator must set {ApiKeyVariable} for the MCP server",
        _ => string.Create(CultureInfo.InvariantCulture, $"the Sandbox service answered {(int)status} {status}"),
    };

    private static ApiProblem Unreadable(HttpStatusCode status, string what) => new()
    {
        Status = 502,
        Code = "bad_gateway",
        Title = "The Sandbox service sent an unreadable answer",
        Detail = string.Create(CultureInfo.InvariantCulture, $"the Sandbox service answered {(int)status} with {what}"),
    };
}
