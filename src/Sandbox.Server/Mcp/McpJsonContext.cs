using System.Text.Json.Serialization;
using Sandbox.Core.Runs;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Mcp;

/// <summary>
/// The JSON the MCP server and the remote gateway read and write: camelCase like the HTTP API, nulls left
/// out, source-generated. Reading is lenient about members it does not know (a newer service may add some),
/// unlike <see cref="Core.Serialization.SandboxJsonContext"/>, which guards our own inputs.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(RunRequest))]
[JsonSerializable(typeof(RunView))]
[JsonSerializable(typeof(IReadOnlyList<LanguageView>))]
[JsonSerializable(typeof(ProblemDocument))]
[JsonSerializable(typeof(RunToolOutput))]
[JsonSerializable(typeof(LanguagesToolOutput))]
internal sealed partial class McpJsonContext : JsonSerializerContext;
