using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Sandbox.Server.Http;

namespace Sandbox.Server.OpenApi;

/// <summary>
/// Completes each operation with what the endpoint metadata cannot say: the key it checks (from <see cref="KeyRequirement"/>),
/// the problems every keyed route can answer, the headers it reads and writes, the two shapes of <c>POST /v1/runs</c>'s 200,
/// the event stream's format, and examples.
/// </summary>
internal sealed class SandboxOperationTransformer : IOpenApiOperationTransformer
{
    private const string ProblemContentType = "application/problem+json";

    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document!;
        operation.Responses ??= [];
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<KeyRequirement>().LastOrDefault() is { } key)
        {
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(key.Scheme, document)] = [] }];

            // The key filter runs before the handler, so every keyed route can refuse; the admin API also refuses when disabled.
            AddProblem(operation, document, "401", "The key is missing, malformed, unknown, expired or revoked (`code` says which)");
            if (key.Scheme == KeyRequirement.AdminKeyScheme)
            {
                AddProblem(operation, document, "403", "The admin API is disabled: no admin key is configured (`admin_disabled`)");
            }
        }
        else
        {
            // Said outright rather than left out: health, readiness, metrics, the catalog and this document answer without a key.
            operation.Security = [];
        }

        switch (operation.OperationId)
        {
            case "CreateRun":
                await DescribeCreateRunAsync(operation, context, document, cancellationToken);
                break;
            case "RunEvents":
                DescribeEvents(operation);
                break;
        }

        foreach (var (status, response) in operation.Responses)
        {
            if (response is not OpenApiResponse concrete)
            {
                continue;
            }

            if (status is "429" or "503")
            {
                AddHeader(concrete, "Retry-After", "Seconds after which trying again makes sense (sent when the service knows)", JsonSchemaType.Integer);
            }

            if (status is "201" or "202")
            {
                AddHeader(concrete, "Location", "Where the created or accepted resource can be read", JsonSchemaType.String);
            }

            if (status == "401")
            {
                AddHeader(concrete, "WWW-Authenticate", "`Bearer error=\"invalid_token\"` (RFC 6750)", JsonSchemaType.String);
            }
        }

        OpenApiExamples.Apply(operation, context.ApplicationServices);
    }

    private static async Task DescribeCreateRunAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, OpenApiDocument document, CancellationToken cancellationToken)
    {
        operation.Description =
            "Runs the program and, by default, waits: 200 with the run and its `result` (a program that failed, timed out or ran out of memory is still a 200; " +
            "`result.status` says how it ended). With `async: true`, or when the run needs a human's approval, it answers 202 at once with the run " +
            "(no `result` yet) and a `Location` to poll or to stream from (`/events`). With `dryRun: true` it runs nothing and answers 200 with the plan " +
            "(a `DryRunView`: `wouldRun`, the profile, backend and limits, and any `refusals`). A repeated `Idempotency-Key` with the same body answers " +
            "the first run again (`Idempotent-Replayed: true`), never a second execution.";
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = "Idempotency-Key",
            In = ParameterLocation.Header,
            Description = "Makes a retry safe: the same key with the same body answers the first run again; with another body it is refused. 1 to 200 visible ASCII characters, such as a UUID.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 200 },
        });

        // The framework keeps one schema per status; the waiting answer and the dry run share 200, so it is declared as either.
        var dryRun = await context.GetOrCreateSchemaAsync(typeof(DryRunView), null, cancellationToken);
        document.AddComponent(nameof(DryRunView), dryRun);
        if (operation.Responses!.TryGetValue("200", out var ok) && ok.Content?.TryGetValue("application/json", out var media) == true)
        {
            media.Schema = new OpenApiSchema
            {
                OneOf = [new OpenApiSchemaReference(nameof(Runs.RunView), document), new OpenApiSchemaReference(nameof(DryRunView), document)],
            };
            ((OpenApiResponse)ok).Description = "The completed run with its `result` (RunView), or with `dryRun: true` the plan (DryRunView)";
        }

        if (operation.Responses.TryGetValue("202", out var accepted) && accepted is OpenApiResponse acceptedResponse)
        {
            acceptedResponse.Description = "Accepted (async, or waiting for approval): the run without a result yet";
        }

        foreach (var status in new[] { "200", "202" })
        {
            if (operation.Responses.TryGetValue(status, out var response) && response is OpenApiResponse concrete)
            {
                AddHeader(concrete, "Idempotent-Replayed", "`true` when this answers an earlier request with the same Idempotency-Key", JsonSchemaType.String);
                AddHeader(concrete, "Location", "The run: `/v1/runs/{id}` (on 200, sent with a replayed answer)", JsonSchemaType.String);
            }
        }
    }

    private static void DescribeEvents(OpenApiOperation operation)
    {
        operation.Description =
            "Server-Sent Events: each event has an `id` (its position in the run's output), an `event` (`state`, `stdout`, `stderr` or `result`) and " +
            "JSON `data` (`{\"text\": …}`, or the final RunView for `result`, after which the stream closes). Reconnect with `Last-Event-ID` to resume after that event.";
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = "Last-Event-ID",
            In = ParameterLocation.Header,
            Description = "Resume after this event id (a whole number from 0); leave it out, or empty, to start from the beginning.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = "^[0-9]{0,19}$" },
        });
        if (operation.Responses!.TryGetValue("200", out var ok) && ok is OpenApiResponse response)
        {
            response.Description = "The run's events, live, ending with `result`";
            response.Content ??= new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal);
            response.Content["text/event-stream"] = new OpenApiMediaType
            {
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "`id: <n>\\nevent: <kind>\\ndata: <json>\\n\\n` frames (text/event-stream)" },
                Example = JsonValue.Create("id: 0\nevent: state\ndata: {\"text\":\"running\"}\n\nid: 1\nevent: stdout\ndata: {\"text\":\"hello\\n\"}\n\nid: 2\nevent: result\ndata: {\"id\":\"run_01\",\"state\":\"completed\",\"result\":{\"status\":\"ok\",\"exitCode\":0,\"stdout\":\"hello\\n\",\"stderr\":\"\"}}\n\n"),
            };
        }
    }

    private static void AddProblem(OpenApiOperation operation, OpenApiDocument document, string status, string description)
    {
        if (operation.Responses!.ContainsKey(status))
        {
            return;
        }

        operation.Responses[status] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
            {
                [ProblemContentType] = new OpenApiMediaType { Schema = new OpenApiSchemaReference("ProblemDetails", document) },
            },
        };
    }

    private static void AddHeader(OpenApiResponse response, string name, string description, JsonSchemaType type)
    {
        response.Headers ??= new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal);
        response.Headers.TryAdd(name, new OpenApiHeader { Description = description, Schema = new OpenApiSchema { Type = type } });
    }
}
