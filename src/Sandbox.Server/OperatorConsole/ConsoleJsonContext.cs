using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sandbox.Server.OperatorConsole;

/// <summary>The console's few JSON answers (the badge's count, the runs list's rows), source-generated like every other wire type.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Dictionary<string, int>))]
[JsonSerializable(typeof(IReadOnlyList<ConsoleRunRow>))]
internal sealed partial class ConsoleJsonContext : JsonSerializerContext;
