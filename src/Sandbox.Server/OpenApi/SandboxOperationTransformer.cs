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
            // Said outright rather than left out: health, readiness, metrics and this document answer without a key.
            operation.Security = [];
        }

        if (operation.OperationId is "RotateKey" or "RevokeAgent" or "HoldAgent" or "ReleaseAgent" or "Approve" or "Deny")
        {
            // Read by the handler itself (an empty body is allowed), so no Accepts metadata: that would add content-type matching to the route.
            var action = await context.GetOrCreateSchemaAsync(typeof(AdminActionBody), null, cancellationToken);
            document.AddComponent(nameof(AdminActionBody), action);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = false,
                Description = "Optional: who acts (`by`, recorded as `admin:<by>`) and why (`reason`, `note`)",
                Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                {
                    ["application/json"] = new OpenApiMediaType { Schema = new OpenApiSchemaReference(nameof(AdminActionBody), document) },
                },
            };
        }

        // Reading a body can fail the same way on every route that takes one (framing, too slow, too large, not JSON).
        if (operation.RequestBody is not null)
        {
            AddProblem(operation, document, "400", "The body is not valid JSON for this endpoint, or a field is invalid (`errors` names each)");
            AddProblem(operation, document, "408", "The body arrived too slowly (`request_timeout`)");
            AddProblem(operation, document, "413", "The body is over the service's limit (`body_too_large`)");
        }

        // Any route can fail unexpectedly; the answer is then a bare problem, without host details.
        AddProblem(operation, document, "500", "The service failed unexpectedly (`internal_error`); the failure has been logged");

        switch (operation.OperationId)
        {
            case "CreateRun":
                await DescribeCreateRunAsync(operation, context, document, cancellationToken);
                break;
            case "RunEvents":
                DescribeEvents(operation);
                break;
            case "ListTools":
                SetContent(operation, "application/json", new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    Description = "The run_code tool in the chosen shape. `openai`: `{\"type\": \"function\", \"function\": {name, description, parameters}}` (Chat Completions); " +
                        "`anthropic`: `{name, description, input_schema}` (Messages); `mcp`: `{name, title, description, inputSchema, outputSchema, annotations}` (tools/list). The schemas are JSON Schema.",
                    Items = new OpenApiSchema { Type = JsonSchemaType.Object },
                });
                if (operation.Parameters?.OfType<OpenApiParameter>().FirstOrDefault(p => p.Name == Tools.ToolCatalog.FormatParameter && p.In == ParameterLocation.Query) is { } format)
                {
                    format.Description = "The tool list's shape: `openai` (the default), `anthropic` or `mcp`; anything else is 400 naming `format`";
                    format.Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.String,
                        Enum = [.. Tools.ToolCatalog.Formats.Select(f => (JsonNode)JsonValue.Create(f))],
                        Default = JsonValue.Create(Tools.ToolCatalog.OpenAi),
                    };
                }

                break;
            case "GetRunArtifact":
                SetContent(operation, "application/octet-stream", new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Format = "binary",
                    Description = "The file's bytes. Content-Type is its sniffed, allow-listed media type (image/png, image/jpeg, image/gif, application/pdf, " +
                        "text/csv, application/json, text/plain, else application/octet-stream); X-Content-Type-Options is nosniff, and anything but an image " +
                        "comes as an attachment. ETag is the quoted SHA-256 the result gives.",
                });
                break;
            case "Metrics":
                SetContent(operation, "text/plain", new OpenApiSchema { Type = JsonSchemaType.String, Description = "Prometheus text exposition format 0.0.4" });
                break;
            case "ListApprovals":
                DescribeQuery(operation, "state", "`pending` (the default), `approved`, `denied`, `expired` or `all`", JsonSchemaType.String);
                break;
            case "QueryAudit":
                DescribeQuery(operation, "agent", "Only this agent's records, by name or id", JsonSchemaType.String);
                DescribeQuery(operation, "run", "Only this run's records, by run id", JsonSchemaType.String);
                DescribeQuery(operation, "kind", "Only records of this kind, such as `run_completed` or `auth_failed`", JsonSchemaType.String);
                DescribeQuery(operation, "status", "Only records with this status, such as `ok` or `timeout`", JsonSchemaType.String);
                DescribeQuery(operation, "from", "Only records at or after this ISO 8601 time, such as `2026-11-21T09:00:00Z`", JsonSchemaType.String);
                DescribeQuery(operation, "to", "Only records before this ISO 8601 time", JsonSchemaType.String);
                DescribeQuery(operation, "after", "Only records after this sequence number: the last one of the previous page", JsonSchemaType.Integer, minimum: "0");
                DescribeQuery(operation, "limit", $"At most this many records (1 to {Guard.Audit.AuditQuery.MaxPageSize}, the default)", JsonSchemaType.Integer, minimum: "1", maximum: Guard.Audit.AuditQuery.MaxPageSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (operation.Responses.TryGetValue("200", out var page) && page is OpenApiResponse pageResponse)
                {
                    AddHeader(pageResponse, "Link", "`<…?after=N>; rel=\"next\"` when the page is full and more records may follow", JsonSchemaType.String);
                }

                break;
            case "VerifyAudit":
                operation.Parameters ??= [];
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = "anchor",
                    In = ParameterLocation.Query,
                    Description = "A head saved earlier as `SEQ:HASH` (as `sandbox audit verify` prints it); the log must still contain it. Repeat for several.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = "^[0-9]+:[0-9a-f]{64}$" } },
                    Style = ParameterStyle.Form,
                    Explode = true,
                });
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

        OpenApiExamples.Apply(operation, "/" + context.Description.RelativePath, context.ApplicationServices);
    }

    private static async Task DescribeCreateRunAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, OpenApiDocument document, CancellationToken cancellationToken)
    {
        operation.Description =
            "Runs the program and, by default, waits: 200 with the run and its `result` (a program that failed, timed out or ran out of memory is still a 200; " +
            "`result.status` says how it ended). With `async: true`, or when the run needs a human's approval, it answers 202 at once with the run " +
            "(no `result` yet) and a `Location` to poll or to stream from (`/events`). With `dryRun: true` it runs nothing and answers 200 with the plan " +
            "(a `DryRunView`: `wouldRun`, the profile, backend and limits, and any `refusals`). A repeated `Idempotency-Key` with the same body answers " +
            "the first run again (`Idempotent-Replayed: true`), never a second execution.";
        AddHeaderParameter(
            operation,
            "Idempotency-Key",
            "Makes a retry safe: the same key with the same body answers the first run again; with another body it is refused. 1 to 200 visible ASCII characters, such as a UUID.",
            new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 200 });

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
        AddHeaderParameter(
            operation,
            "Last-Event-ID",
            "Resume after this event id (a whole number from 0); leave it out, or empty, to start from the beginning.",
            new OpenApiSchema { Type = JsonSchemaType.String, Pattern = "^[0-9]{0,19}$" });
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

    /// <summary>A 200 the framework knows only by content type (the handler writes text itself): its schema, with the example added later.</summary>
    private static void SetContent(OpenApiOperation operation, string contentType, OpenApiSchema schema)
    {
        if (operation.Responses!.TryGetValue("200", out var ok) && ok is OpenApiResponse response)
        {
            response.Content ??= new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal);
            response.Content[contentType] = new OpenApiMediaType { Schema = schema };
        }
    }

    /// <summary>Describes a query parameter the framework found on the handler (bound as text, so the handler can name a bad value).</summary>
    private static void DescribeQuery(OpenApiOperation operation, string name, string description, JsonSchemaType type, string? minimum = null, string? maximum = null)
    {
        if (operation.Parameters?.OfType<OpenApiParameter>().FirstOrDefault(p => p.Name == name && p.In == ParameterLocation.Query) is { } parameter)
        {
            parameter.Description = description;
            parameter.Schema = new OpenApiSchema { Type = type, Minimum = minimum, Maximum = maximum };
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

    /// <summary>Declares a request header the handler reads itself (the framework sees only bound parameters).</summary>
    private static void AddHeaderParameter(OpenApiOperation operation, string name, string description, OpenApiSchema schema)
    {
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter { Name = name, In = ParameterLocation.Header, Description = description, Schema = schema });
    }

    private static void AddHeader(OpenApiResponse response, string name, string description, JsonSchemaType type)
    {
        response.Headers ??= new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal);
        response.Headers.TryAdd(name, new OpenApiHeader { Description = description, Schema = new OpenApiSchema { Type = type } });
    }
}
