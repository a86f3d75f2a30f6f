using System.Text.Json.Serialization;

namespace Sandbox.Server.OperatorConsole;

/// <summary>The console's few JSON answers (the badge's count), source-generated like every other wire type.</summary>
[JsonSerializable(typeof(Dictionary<string, int>))]
internal sealed partial class ConsoleJsonContext : JsonSerializerContext;
