using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>Small helpers: post a JSON body and read JSON back as a node, so assertions read the wire format itself.</summary>
internal static class HttpJson
{
    public static Task<HttpResponseMessage> PostRunAsync(this HttpClient client, object body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string body) =>
        client.PostAsync("/v1/runs", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

    public static async Task<JsonNode> JsonAsync(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))
        ?? throw new JsonException("the response body is JSON null");

    /// <summary>Polls a run until it reaches <paramref name="state"/> (or fails after the timeout).</summary>
    public static async Task<JsonNode> WaitForStateAsync(this HttpClient client, string id, string state, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var view = await (await client.GetAsync($"/v1/runs/{id}", TestContext.Current.CancellationToken)).JsonAsync();
            if ((string?)view["state"] == state || DateTimeOffset.UtcNow > deadline)
            {
                return view;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
