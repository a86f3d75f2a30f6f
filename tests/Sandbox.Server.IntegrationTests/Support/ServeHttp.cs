using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Sandbox.Server.IntegrationTests.Support;

/// <summary>Calls the real <c>sandbox serve</c> tests make again and again: an admin read, and waiting for a run's state.</summary>
internal static class ServeHttp
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>GETs an admin path with the admin key; anything but 200 fails the test with the body.</summary>
    public static async Task<JsonNode> AdminGetAsync(this HttpClient http, string adminKey, string path)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, path);
        get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        using var response = await http.SendAsync(get, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!;
    }

    /// <summary>Polls <c>GET /v1/runs/{id}</c> as <paramref name="key"/> until the run is in <paramref name="state"/> (30 s at most).</summary>
    public static async Task WaitForRunStateAsync(this HttpClient http, string key, string runId, string state)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{runId}");
            get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await http.SendAsync(get, Token);
            var view = await response.Content.ReadFromJsonAsync<JsonObject>(Token);
            if (view?["state"]?.GetValue<string>() == state)
            {
                return;
            }

            await Task.Delay(100, Token);
        }

        throw new TimeoutException($"run {runId} never reached '{state}'");
    }
}
