using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using Sandbox.Server.Mcp;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Tools;

/// <summary>
/// <c>GET /v1/tools?format=</c>: the same <c>run_code</c> tool the MCP server offers (one description, one schema:
/// <see cref="ToolDefinitions"/>), in the tool shape of the framework that takes it. Each shape is checked against the
/// vendor SDK's own type in a test (eng/npm/tests/tool-shapes.ts).
/// </summary>
internal static class ToolCatalog
{
    /// <summary>The query parameter that picks the shape.</summary>
    public const string FormatParameter = "format";

    /// <summary>OpenAI Chat Completions: <c>[{"type": "function", "function": {name, description, parameters}}]</c>; the default.</summary>
    public const string OpenAi = "openai";

    /// <summary>Anthropic Messages: <c>[{name, description, input_schema}]</c>.</summary>
    public const string Anthropic = "anthropic";

    /// <summary>MCP <c>tools/list</c>: <c>[{name, title, description, inputSchema, outputSchema, annotations}]</c>, as <c>sandbox mcp</c> lists it.</summary>
    public const string Mcp = "mcp";

    public static IReadOnlyList<string> Formats { get; } = [OpenAi, Anthropic, Mcp];

    /// <summary>The tool list in <paramref name="format"/> (one of <see cref="Formats"/>), indented JSON.</summary>
    public static string Json(IReadOnlyList<LanguageView> languages, IReadOnlyList<ProfileCeiling> profiles, string format = OpenAi)
    {
        var catalog = new LanguageCatalog(languages, profiles);
        var runCode = ToolDefinitions.All(catalog).Single(t => t.Name == ToolDefinitions.RunCode);
        JsonNode tool = format switch
        {
            OpenAi => new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject
                {
                    ["name"] = runCode.Name,
                    ["description"] = runCode.Description,
                    ["parameters"] = JsonNode.Parse(runCode.InputSchema.GetRawText()),
                },
            },
            Anthropic => new JsonObject
            {
                ["name"] = runCode.Name,
                ["description"] = runCode.Description,
                ["input_schema"] = JsonNode.Parse(runCode.InputSchema.GetRawText()),
            },
            Mcp => JsonSerializer.SerializeToNode(runCode, (JsonTypeInfo<Tool>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(Tool)))!,
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not a tool format"),
        };
        return new JsonArray(tool).ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
