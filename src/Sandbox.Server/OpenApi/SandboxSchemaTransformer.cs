using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Sandbox.Server.Http;

namespace Sandbox.Server.OpenApi;

/// <summary>
/// Schemas as the service actually reads and writes them: problem details carry the extensions
/// <c>Problems.ToResult</c> adds (<c>code</c>, <c>errors</c>, <c>cap</c>), and request bodies name the fields the
/// handlers refuse to do without (the parser takes every field as optional only to report all missing ones at once).
/// </summary>
internal sealed class SandboxSchemaTransformer : IOpenApiSchemaTransformer
{
    /// <summary>Types only ever read from a request, where a missing field is allowed; every other object is only ever written.</summary>
    private static readonly HashSet<Type> s_requestTypes =
    [
        typeof(RunRequestBody), typeof(Core.Runs.InputFile), typeof(Core.Limits.LimitOverrides), typeof(TokenRequestBody), typeof(CreateAgentBody), typeof(AdminActionBody),
    ];

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        // Called for a type both where it is the body and where it is a property's type (which is how most component schemas are made).
        var type = context.JsonTypeInfo.Type;
        if (type == typeof(ProblemDetails))
        {
            DescribeProblem(schema);
        }
        else if (type == typeof(RunRequestBody))
        {
            Require(schema, "language", "code");
        }
        else if (type == typeof(TokenRequestBody))
        {
            Require(schema, "profiles");
        }
        else if (type == typeof(CreateAgentBody))
        {
            Require(schema, "name", "profiles");
        }
        else if (!s_requestTypes.Contains(type) && schema.Properties is { Count: > 0 })
        {
            RequireWritten(schema, context.JsonTypeInfo);
        }

        return Task.CompletedTask;
    }

    private static void DescribeProblem(OpenApiSchema schema)
    {
        schema.Description = "RFC 9457 problem details. `code` is stable and names the problem (the `type` URI ends with it); `detail` says what to do.";
        schema.Properties ??= new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal);
        Set(schema, "type", new OpenApiSchema { Type = JsonSchemaType.String, Description = "`urn:sandbox:problem:<code>`, or a link for problems the framework raises" });
        Set(schema, "title", new OpenApiSchema { Type = JsonSchemaType.String, Description = "A short summary of the problem" });
        Set(schema, "status", new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Description = "The HTTP status code" });
        Set(schema, "detail", new OpenApiSchema { Type = JsonSchemaType.String, Description = "What went wrong and how to fix it" });
        Set(schema, "instance", new OpenApiSchema { Type = JsonSchemaType.String, Description = "The request path" });
        Set(schema, "code", new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Description = "A stable, machine-readable code such as `invalid_request`, `cap_exceeded`, `queue_full`, `run_not_found` or `missing_key`; test this, never the text",
        });
        Set(schema, "errors", new OpenApiSchema
        {
            Type = JsonSchemaType.Array,
            Description = "For invalid input: each problem, naming its field",
            Items = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Required = new HashSet<string>(StringComparer.Ordinal) { "field", "message" },
                Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
                {
                    ["field"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The field's path, such as `limits.wallTimeMs` or `files[0].path`" },
                    ["message"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "What is wrong with it and what it should be" },
                },
            },
        });
        Set(schema, "cap", new OpenApiSchema { Type = JsonSchemaType.String, Description = "For `cap_exceeded` (429): which of the agent's caps was reached; the Retry-After header says when to try again" });
        schema.Required = new HashSet<string>(StringComparer.Ordinal) { "type", "title", "status", "code" };
    }

    /// <summary>
    /// The HTTP options write every property, null or not, so each one is present in an answer and listed as required
    /// (a nullable one stays typed as possibly null); only a property the serializer may skip (a conditional JsonIgnore) stays optional.
    /// </summary>
    private static void RequireWritten(OpenApiSchema schema, System.Text.Json.Serialization.Metadata.JsonTypeInfo typeInfo)
    {
        if (typeInfo.Kind != System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object)
        {
            return;
        }

        schema.Required ??= new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in typeInfo.Properties)
        {
            if (property.ShouldSerialize is null && property.Get is not null && schema.Properties!.ContainsKey(property.Name))
            {
                schema.Required.Add(property.Name);
            }
        }
    }

    private static void Set(OpenApiSchema schema, string name, OpenApiSchema property) => schema.Properties![name] = property;

    /// <summary>Marks fields required and, being required, never null.</summary>
    private static void Require(OpenApiSchema schema, params string[] names)
    {
        schema.Required ??= new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            schema.Required.Add(name);
            if (schema.Properties?.TryGetValue(name, out var property) == true && property is OpenApiSchema concrete && concrete.Type is { } t)
            {
                concrete.Type = t & ~JsonSchemaType.Null;
            }
        }
    }
}
