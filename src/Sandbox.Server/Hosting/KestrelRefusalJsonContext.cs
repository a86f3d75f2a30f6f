using System.Text.Json.Serialization;

namespace Sandbox.Server.Hosting;

/// <summary>The problem bodies <see cref="KestrelRefusalStream"/> writes, source-generated like every other wire type.</summary>
[JsonSerializable(typeof(Dictionary<string, object>))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(int))]
internal sealed partial class KestrelRefusalJsonContext : JsonSerializerContext;
