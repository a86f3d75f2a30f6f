using System.Text.Json;
using System.Text.Json.Nodes;
using Sandbox.Server.Mcp;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Tools;

/// <summary>
/// <c>GET /v1/tools</c>: the same <c>run_code</c> tool the MCP server offers (one description, one schema:
/// <see cref="ToolDefinitions"/>), in the function-calling shape frameworks take:
/// <c>[{"type":"function","function":{name, description, parameters}}]</c>.
/// </summary>
internal static class ToolCatalog
{
    public static string FunctionToolsJson(IReadOnlyList<LanguageView> languages, IReadOnlyList<ProfileCeiling> profiles)
    {
        var catalog = new LanguageCatalog(languages, profiles);
        var runCode = ToolDefinitions.All(catalog).Single(t => t.Name == ToolDefinitions.RunCode);
        var tools = new JsonArray(new JsonObject
        {
            ["type"] = "function",
            ["function"] = new JsonObject
            {
                ["name"] = runCode.Name,
                ["description"] = runCode.Description,
                ["parameters"] = JsonNode.Parse(runCode.InputSchema.GetRawText()),
            },
        });
        return tools.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
