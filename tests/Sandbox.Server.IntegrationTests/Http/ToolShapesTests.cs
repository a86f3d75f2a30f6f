using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>
/// <c>GET /v1/tools?format=openai|anthropic|mcp</c> from a real <c>sandbox serve</c>, checked against each vendor SDK's
/// published TypeScript type (openai, @anthropic-ai/sdk, @modelcontextprotocol/sdk from eng/npm): the answers are written
/// as object literals assigned to those types (eng/npm/tests/tool-shapes.ts) and <c>tsc --noEmit</c> must accept them.
/// A control first swaps two shapes, which tsc must refuse, so the check is shown to bite.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ToolShapesTests
{
    private const string AdminKey = "tool-shapes-admin-key-0123456789abcdef0123456789abc";

    private static readonly string[] s_formats = ["openai", "anthropic", "mcp"];

    private static readonly string[] s_profiles = ["python", "bash"];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ToolFormats_AssignToTheVendorSdkTypes()
    {
        var tsc = NpmClients.Bin("tsc");
        var data = Path.Join(Path.GetTempPath(), "sandbox-tool-shapes", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        try
        {
            using var serve = ServeProcess.Start(data, AdminKey);
            await serve.WaitHealthyAsync(Token);
            var key = await CreateAgentAsync(serve.Http);
            var served = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var format in s_formats)
            {
                using var get = new HttpRequestMessage(HttpMethod.Get, "/v1/tools?format=" + format);
                get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                using var response = await serve.Http.SendAsync(get, Token);
                var body = await response.Content.ReadAsStringAsync(Token);
                response.StatusCode.ShouldBe(HttpStatusCode.OK, body);
                JsonNode.Parse(body).ShouldBeOfType<JsonArray>().Count.ShouldBe(1);
                served[format] = body;
            }

            var generated = Path.Join(NpmClients.Folder, "generated", "tools.ts");
            Directory.CreateDirectory(Path.GetDirectoryName(generated)!);
            var config = Path.Join(NpmClients.Folder, "tsconfig.tools.json");

            // Control: the OpenAI answer where Anthropic's type is expected (and back) must not compile.
            await File.WriteAllTextAsync(generated, Module(served, ("openai", served["anthropic"]), ("anthropic", served["openai"])), Token);
            var (exit, output) = await NpmClients.ExitCodeAsync(tsc, ["--noEmit", "-p", config]);
            exit.ShouldNotBe(0, "tsc accepted swapped tool shapes, so it checks nothing:\n" + output);
            output.ShouldContain("generated/tools.ts");

            await File.WriteAllTextAsync(generated, Module(served), Token);
            await NpmClients.RunAsync(tsc, ["--noEmit", "-p", config]);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>generated/tools.ts: each served answer as a literal in the field of <c>ToolShapes</c> named after its format.</summary>
    private static string Module(Dictionary<string, string> served, params (string Format, string Body)[] overrides)
    {
        var text = new StringBuilder()
            .AppendLine("// Written by ToolShapesTests from a real sandbox serve's GET /v1/tools?format=…; type-checked by tsconfig.tools.json.")
            .AppendLine("import type { ToolShapes } from \"../tests/tool-shapes.js\";")
            .AppendLine("export const served: ToolShapes = {");
        foreach (var format in s_formats)
        {
            var body = overrides.FirstOrDefault(o => o.Format == format).Body ?? served[format];
            text.Append("  ").Append(format).Append(": ").Append(body).AppendLine(",");
        }

        return text.AppendLine("};").ToString();
    }

    private static async Task<string> CreateAgentAsync(HttpClient http)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/agents") { Content = JsonContent.Create(new { name = "tool-shapes", profiles = s_profiles }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        using var response = await http.SendAsync(request, Token);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Token));
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>(Token))!["key"]!;
    }
}
