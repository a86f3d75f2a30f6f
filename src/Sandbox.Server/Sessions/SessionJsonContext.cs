using System.Text.Json.Serialization;

namespace Sandbox.Server.Sessions;

/// <summary>The sessions' wire types, with the service's strict options (unknown and repeated fields refused).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(SessionRequestBody))]
[JsonSerializable(typeof(SessionView))]
[JsonSerializable(typeof(SessionCellView))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonObject))]
internal sealed partial class SessionJsonContext : JsonSerializerContext;
