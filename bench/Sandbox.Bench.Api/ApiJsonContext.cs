using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sandbox.Bench.Api;

/// <summary>The body of <c>POST /v1/runs</c>: the fields this bench sends.</summary>
internal sealed record RunRequestBody
{
    public required string Language { get; init; }

    public required string Code { get; init; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Backend { get; init; }
}

/// <summary>The part of the service's run view this bench reads; everything else in the answer is ignored.</summary>
internal sealed record RunViewBody
{
    public required string Id { get; init; }

    public required string State { get; init; }

    public long? QueueMs { get; init; }

    public long? RunMs { get; init; }

    public RunResultBody? Result { get; init; }
}

/// <summary>The part of a run's result this bench checks.</summary>
internal sealed record RunResultBody
{
    public required string Status { get; init; }

    public string? Stdout { get; init; }

    public string? Message { get; init; }
}

/// <summary>An RFC 9457 problem as the service writes it; <see cref="Code"/> is its stable short code.</summary>
internal sealed record ProblemBody
{
    public int? Status { get; init; }

    public string? Code { get; init; }

    public string? Detail { get; init; }
}

/// <summary>Source-generated (de)serialization with the service's camelCase names.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(RunRequestBody))]
[JsonSerializable(typeof(RunViewBody))]
[JsonSerializable(typeof(ProblemBody))]
[JsonSerializable(typeof(string))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
