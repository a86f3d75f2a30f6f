using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sandbox.Core.Runs;
using Sandbox.Server.Runs;
using Sandbox.Server.Sessions;

namespace Sandbox.Server.Mcp;

/// <summary>Sessions on the remote service (<c>sandbox mcp --url</c>): <c>/v1/sessions</c>, answered and refused as its runs are.</summary>
public sealed partial class RemoteRunGateway : ISessionGateway
{
    public async Task<SessionAnswer> OpenAsync(SessionRequestBody request, CancellationToken cancellationToken)
    {
        using var content = JsonContent.Create(request, SessionJsonContext.Default.SessionRequestBody);
        return await SendForSessionAsync(HttpMethod.Post, "v1/sessions", content, cancellationToken);
    }

    public Task<SessionAnswer> CloseAsync(string id, CancellationToken cancellationToken) =>
        SendForSessionAsync(HttpMethod.Delete, "v1/sessions/" + Uri.EscapeDataString(id), null, cancellationToken);

    public async Task<GatewayResult> RunCellAsync(string id, RunRequest request, CancellationToken cancellationToken)
    {
        using var content = new StringContent(JsonSerializer.Serialize(request, McpJsonContext.Default.RunRequest), System.Text.Encoding.UTF8, "application/json");
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_baseUrl, "v1/sessions/" + Uri.EscapeDataString(id) + "/runs")) { Content = content };
            using var response = await _http.SendAsync(message, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return GatewayResult.Of(await ReadProblemAsync(response, cancellationToken));
            }

            // The cell's view is a run's view plus what it did to the session.
            var body = await JsonNode.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            var run = body.Deserialize(McpJsonContext.Default.RunView);
            var session = body?["session"].Deserialize(SessionJsonContext.Default.SessionCellInfo);
            return run is null
                ? GatewayResult.Of(Unreadable(response.StatusCode, "an empty body"))
                : GatewayResult.Of(session is null ? run : SessionTools.WithNotes(run, session));
        }
        catch (HttpRequestException ex)
        {
            return GatewayResult.Of(Unreachable(ex));
        }
        catch (JsonException)
        {
            return GatewayResult.Of(Unreadable(System.Net.HttpStatusCode.OK, "a body that is not a cell's run"));
        }
    }

    private async Task<SessionAnswer> SendForSessionAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        try
        {
            using var message = new HttpRequestMessage(method, new Uri(_baseUrl, path)) { Content = content };
            using var response = await _http.SendAsync(message, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return new SessionAnswer(null, await ReadProblemAsync(response, cancellationToken));
            }

            var session = await response.Content.ReadFromJsonAsync(SessionJsonContext.Default.SessionView, cancellationToken);
            return new SessionAnswer(session, session is null ? Unreadable(response.StatusCode, "an empty body") : null);
        }
        catch (HttpRequestException ex)
        {
            return new SessionAnswer(null, Unreachable(ex));
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            return new SessionAnswer(null, Unreadable(System.Net.HttpStatusCode.OK, "a body that is not a session"));
        }
    }

    private ApiProblem Unreachable(HttpRequestException ex) => new()
    {
        Status = 503,
        Code = "service_unreachable",
        Title = "The Sandbox service cannot be reached",
        Detail = $"cannot reach the Sandbox service at {_baseUrl}: {ex.Message}",
        RetryAfterSeconds = 5,
    };
}
