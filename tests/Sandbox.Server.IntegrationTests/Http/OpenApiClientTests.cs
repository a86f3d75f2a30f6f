using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>
/// A TypeScript client generated from a real <c>sandbox serve</c>'s document (openapi-typescript) and driven with
/// openapi-fetch (eng/npm/tests/openapi-client.test.ts): tsc must accept a typed <c>result.stdout</c>, the calls must
/// answer as typed, and an event-stream reconnect with the final event's id must get the result again at once. The npm packages come from eng/npm's lockfile (eng/npm-install.sh).
/// </summary>
public sealed class OpenApiClientTests
{
    private const string AdminKey = "openapi-client-admin-key-0123456789abcdef0123456789";

    private static readonly string[] s_profiles = ["python"];

    private static readonly string s_npm = NpmClients.Folder;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GeneratedClient_RunsCode_TypedResultStdout()
    {
        var data = Path.Join(Path.GetTempPath(), "sandbox-openapi-client", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        try
        {
            using var serve = ServeProcess.Start(data, AdminKey);
            await serve.WaitHealthyAsync(Token);
            var key = await CreateAgentAsync(serve.Http);

            var document = Path.Join(s_npm, "generated", "sandbox-api.json");
            Directory.CreateDirectory(Path.GetDirectoryName(document)!);
            await File.WriteAllTextAsync(document, await serve.Http.GetStringAsync("/openapi/v1.json", Token), Token);

            await NpmClients.RunAsync(NpmClients.Bin("openapi-typescript"), [document, "-o", Path.Join(s_npm, "generated", "sandbox-api.d.ts")]);
            await NpmClients.RunAsync(NpmClients.Bin("tsc"), ["-p", Path.Join(s_npm, "tsconfig.json")]);
            await NpmClients.RunAsync("node", ["--test", Path.Join(s_npm, "out", "tests", "openapi-client.test.js")], new Dictionary<string, string>
            {
                ["SANDBOX_URL"] = serve.Http.BaseAddress!.ToString().TrimEnd('/'),
                ["SANDBOX_API_KEY"] = key,
            });
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<string> CreateAgentAsync(HttpClient http)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/agents") { Content = JsonContent.Create(new { name = "ts-client", profiles = s_profiles }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        using var response = await http.SendAsync(request, Token);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Token));
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>(Token))!["key"]!;
    }
}
