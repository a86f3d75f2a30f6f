using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Sandbox.Docker.Client;

/// <summary>
/// <see cref="IDockerClient"/> over HTTP/1.1 on the daemon's Unix socket. Thread-safe; create one per process
/// and share it. It does not retry or time out by itself: wrap it in
/// <see cref="Resilience.ResilientDockerClient"/> for that.
/// </summary>
/// <remarks>
/// Every connection goes through <see cref="ConnectUnixAsync"/>, so no request can leave the machine whatever
/// URI or proxy settings are around. Errors are translated per endpoint by <see cref="DockerErrorMapper"/>.
/// This file holds the transport and version negotiation; the calls live in the other partial files.
/// </remarks>
public sealed partial class DockerClient : IDockerClient, IDisposable
{
    /// <summary>Highest Engine API version this client speaks (Docker 20.10).</summary>
    public static readonly Version MaxApiVersion = new(1, 41);

    /// <summary>Oldest Engine API version this client speaks (Docker 19.03): older daemons lack fields we set.</summary>
    public static readonly Version MinApiVersion = new(1, 40);

    private const string UserAgent = "Sandbox-DockerClient/1.0";

    // Any daemon error body we keep for a message; more would only be noise in an exception.
    private const int MaxErrorBodyChars = 4096;

    private static readonly Uri s_baseAddress = new("http://docker/");
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    private readonly DockerEndpoint _endpoint;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _negotiation = new(1, 1);
    private string? _apiPrefix;

    /// <summary>Creates a client for the daemon at <paramref name="endpoint"/>; nothing is sent until the first call.</summary>
    /// <param name="endpoint">The daemon's socket, usually <see cref="DockerEndpoint.FromEnvironment"/>.</param>
    /// <param name="connectTimeout">How long to wait for the socket to accept; default 5 s.</param>
    public DockerClient(DockerEndpoint endpoint, TimeSpan? connectTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _endpoint = endpoint;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = (_, cancellationToken) => ConnectUnixAsync(cancellationToken),
            ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(5),
            // The socket is the only destination: ignore HTTP_PROXY and friends, never follow redirects.
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
        };
        _http = new HttpClient(handler)
        {
            BaseAddress = s_baseAddress,
            // Wait legitimately lasts as long as the container runs; per-call timeouts live in the resilience layer.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
    }

    /// <summary>The daemon this client talks to.</summary>
    public DockerEndpoint Endpoint => _endpoint;

    /// <summary>A client for <c>DOCKER_HOST</c>, or the default socket when it is unset.</summary>
    public static DockerClient FromEnvironment() => new(DockerEndpoint.FromEnvironment());

    public void Dispose()
    {
        _http.Dispose();
        _negotiation.Dispose();
    }

    /// <summary>
    /// Picks the API version to speak: the daemon's own, capped at <see cref="MaxApiVersion"/>.
    /// </summary>
    /// <exception cref="DockerException">The daemon is older than <see cref="MinApiVersion"/>, or its version is unreadable.</exception>
    internal static Version NegotiateApiVersion(DockerVersion daemon)
    {
        string endpoint = DockerOperation.Version.Endpoint();
        if (!Version.TryParse(daemon.ApiVersion, out Version? daemonApi))
        {
            throw new DockerException(
                $"the daemon reported API version '{daemon.ApiVersion}', which is not a version; is DOCKER_HOST pointing at a Docker Engine?",
                endpoint);
        }

        if (daemonApi < MinApiVersion)
        {
            throw new DockerException(
                $"Docker {daemon.Version} speaks Engine API {daemonApi}, older than {MinApiVersion}, the oldest Sandbox supports; upgrade Docker to 19.03 or newer",
                endpoint);
        }

        if (Version.TryParse(daemon.MinAPIVersion, out Version? daemonMin) && daemonMin > MaxApiVersion)
        {
            throw new DockerException(
                $"Docker {daemon.Version} accepts Engine API {daemonMin} or newer only, but Sandbox speaks at most {MaxApiVersion}; run a Docker Engine that still accepts API {MaxApiVersion}",
                endpoint);
        }

        return daemonApi < MaxApiVersion ? daemonApi : MaxApiVersion;
    }

    /// <summary>Escapes one path segment (a container id or an image reference: its '/' and ':' are escaped too, which the daemon's router decodes).</summary>
    private static string Segment(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        return Uri.EscapeDataString(value);
    }

    /// <summary>The <c>/v1.xx</c> prefix, negotiated once with GET /version; concurrent first calls share one negotiation.</summary>
    private async ValueTask<string> GetApiPrefixAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _apiPrefix) is { } prefix)
        {
            return prefix;
        }

        // Not a Lazy<Task>: a failed negotiation (daemon down) must not be cached for the life of the process.
        await _negotiation.WaitAsync(cancellationToken);
        try
        {
            if (_apiPrefix is { } negotiated)
            {
                return negotiated;
            }

            DockerVersion version = await GetVersionAsync(cancellationToken);
            Version api = NegotiateApiVersion(version);
            string result = string.Create(CultureInfo.InvariantCulture, $"/v{api.Major}.{api.Minor}");
            Volatile.Write(ref _apiPrefix, result);
            return result;
        }
        finally
        {
            _negotiation.Release();
        }
    }

    private async ValueTask<Stream> ConnectUnixAsync(CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(_endpoint.SocketPath), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends a request and returns the response once its headers arrived (the body may still be streaming).</summary>
    private async Task<HttpResponseMessage> SendAsync(
        DockerOperation operation, HttpMethod method, string pathAndQuery, byte[]? jsonBody, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, pathAndQuery);
        if (jsonBody is not null)
        {
            request.Content = new ByteArrayContent(jsonBody) { Headers = { ContentType = s_json } };
        }

        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            // The caller cancelled mid-call (a run being killed): that is cancellation, not an unreachable daemon.
            cancellationToken.ThrowIfCancellationRequested();
            throw DockerErrorMapper.Unreachable(operation, _endpoint.SocketPath, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Not the caller's token: the connect timeout fired.
            throw DockerErrorMapper.Unreachable(operation, _endpoint.SocketPath, ex);
        }
    }

    /// <summary>Throws the mapped exception when <paramref name="response"/> is not a success (304 counts as success).</summary>
    private async Task EnsureSuccessAsync(
        DockerOperation operation, HttpResponseMessage response, string? subject, CancellationToken cancellationToken)
    {
        int status = (int)response.StatusCode;
        if (status is >= 200 and < 300 or 304)
        {
            return;
        }

        string? message = await ReadErrorMessageAsync(operation, response, cancellationToken);
        throw DockerErrorMapper.FromStatus(operation, status, message, subject);
    }

    private async Task<string?> ReadErrorMessageAsync(DockerOperation operation, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // The caller cancelled mid-call (a run being killed): that is cancellation, not an unreachable daemon.
            cancellationToken.ThrowIfCancellationRequested();
            throw DockerErrorMapper.Unreachable(operation, _endpoint.SocketPath, ex);
        }

        return ParseDaemonMessage(body);
    }

    /// <summary>The <c>message</c> of a JSON error body, or the body itself when it is not JSON (some routes answer in plain text).</summary>
    internal static string? ParseDaemonMessage(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        try
        {
            if (JsonSerializer.Deserialize(body, DockerJsonContext.Default.DockerErrorResponse)?.Message is { } message)
            {
                return message;
            }
        }
        catch (JsonException)
        {
            // Not JSON: fall through to the raw text.
        }

        string trimmed = body.Trim();
        return trimmed.Length > MaxErrorBodyChars ? trimmed[..MaxErrorBodyChars] : trimmed;
    }

    private async Task<T> ReadJsonAsync<T>(
        DockerOperation operation, HttpResponseMessage response, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        try
        {
            await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken);
            return await JsonSerializer.DeserializeAsync(body, typeInfo, cancellationToken)
                ?? throw new JsonException("the body was JSON null");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // The caller cancelled mid-call (a run being killed): that is cancellation, not an unreachable daemon.
            cancellationToken.ThrowIfCancellationRequested();
            throw DockerErrorMapper.Unreachable(operation, _endpoint.SocketPath, ex);
        }
        catch (JsonException ex)
        {
            throw new DockerException(
                $"{operation.Endpoint()} answered with JSON Sandbox cannot read ({ex.Message}); is DOCKER_HOST pointing at a Docker Engine?",
                operation.Endpoint(), (int)response.StatusCode, inner: ex);
        }
    }

    /// <summary>Sends, maps errors, and deserializes the body of a success.</summary>
    private async Task<T> GetJsonAsync<T>(
        DockerOperation operation, HttpMethod method, string pathAndQuery, string? subject, JsonTypeInfo<T> typeInfo,
        CancellationToken cancellationToken, byte[]? jsonBody = null)
    {
        using HttpResponseMessage response = await SendAsync(operation, method, pathAndQuery, jsonBody, cancellationToken);
        await EnsureSuccessAsync(operation, response, subject, cancellationToken);
        return await ReadJsonAsync(operation, response, typeInfo, cancellationToken);
    }
}
