using System.Text.Json.Serialization;

namespace Sandbox.Docker.Client;

/// <summary>The Engine API speaks PascalCase; unknown fields are ignored because the daemon adds them across versions.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ContainerCreateRequest))]
[JsonSerializable(typeof(ContainerCreateResponse))]
[JsonSerializable(typeof(ContainerInspectResponse))]
[JsonSerializable(typeof(List<ContainerSummary>))]
[JsonSerializable(typeof(ContainerWaitResponse))]
[JsonSerializable(typeof(ImageInspectResponse))]
[JsonSerializable(typeof(DockerVersion))]
[JsonSerializable(typeof(DockerInfo))]
[JsonSerializable(typeof(DockerErrorResponse))]
[JsonSerializable(typeof(Dictionary<string, List<string>>))]
internal sealed partial class DockerJsonContext : JsonSerializerContext;

/// <summary>Body of a 201 from POST /containers/create.</summary>
internal sealed record ContainerCreateResponse
{
    public string Id { get; init; } = "";
    public IReadOnlyList<string>? Warnings { get; init; }
}

/// <summary>The daemon's error body: <c>{"message": "..."}</c>.</summary>
internal sealed record DockerErrorResponse
{
    [JsonPropertyName("message")]
    public string? Message { get; init; }
}
