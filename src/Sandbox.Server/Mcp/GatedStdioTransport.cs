using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Sandbox.Core.Runs;
using Sandbox.Core.Serialization;

namespace Sandbox.Server.Mcp;

/// <summary>
/// The stdio transport of <c>sandbox mcp</c>, with a gate in front of the SDK's. The SDK binds a call's arguments
/// into a dictionary, where a key given twice is last-wins and a lone surrogate or arguments that are not an object
/// fail as a bare "An error occurred" (-32603) naming nothing. The gate reads each line first: a <c>run_code</c>
/// call whose raw arguments are not a run request is answered here with the same field errors as HTTP, a
/// <c>tools/call</c> whose envelope is broken gets an invalid-params error naming the field, and every other line
/// goes on to the SDK exactly as it came.
/// </summary>
internal sealed partial class GatedStdioTransport : ITransport
{
    /// <summary>Longest line read: above the largest run request (16 MiB of code, escaped); a longer one is dropped, never buffered whole.</summary>
    private const int MaxLineBytes = 48 * 1024 * 1024;

    private readonly Pipe _toSdk = new();
    private readonly StreamServerTransport _sdk;
    private readonly SandboxMcpTools _tools;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _pump;

    public GatedStdioTransport(Stream input, Stream output, SandboxMcpTools tools, ILoggerFactory loggers)
    {
        _tools = tools;
        _logger = loggers.CreateLogger<GatedStdioTransport>();
        _sdk = new StreamServerTransport(_toSdk.Reader.AsStream(), output, SandboxMcpServer.Name, loggers);
        _pump = Task.Run(() => PumpAsync(PipeReader.Create(input), _stopping.Token));
    }

    public string? SessionId => _sdk.SessionId;

    public System.Threading.Channels.ChannelReader<JsonRpcMessage> MessageReader => _sdk.MessageReader;

    public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default) => _sdk.SendMessageAsync(message, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _pump;
        }
        catch (OperationCanceledException)
        {
            // Stopping is how the pump ends when the server stops first.
        }

        await _sdk.DisposeAsync();
        _stopping.Dispose();
    }

    private async Task PumpAsync(PipeReader input, CancellationToken cancellationToken)
    {
        var dropping = false;
        try
        {
            while (true)
            {
                var read = await input.ReadAsync(cancellationToken);
                var buffer = read.Buffer;
                while (buffer.PositionOf((byte)'\n') is { } end)
                {
                    var line = buffer.Slice(0, end);
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                    if (dropping)
                    {
                        dropping = false;
                        continue;
                    }

                    await HandleAsync(line.ToArray(), cancellationToken);
                }

                if (buffer.Length > MaxLineBytes)
                {
                    // Bounded memory whatever the client sends: the rest of this line is skipped, and nobody can be answered without its id.
                    Log.LineTooLong(_logger, MaxLineBytes);
                    dropping = true;
                    buffer = buffer.Slice(buffer.End);
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted)
                {
                    if (!dropping && buffer.Length > 0)
                    {
                        await HandleAsync(buffer.ToArray(), cancellationToken);
                    }

                    break;
                }
            }
        }
        finally
        {
            await input.CompleteAsync();
            await _toSdk.Writer.CompleteAsync();
        }
    }

    private async Task HandleAsync(byte[] line, CancellationToken cancellationToken)
    {
        JsonRpcMessage? answer;
        try
        {
            answer = await AnswerAsync(line, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A gap in the gate must not end the server: the SDK gets the line and answers it as it would have.
            Log.GateFailed(_logger, ex);
            answer = null;
        }

        if (answer is not null)
        {
            await _sdk.SendMessageAsync(answer, cancellationToken);
            return;
        }

        await _toSdk.Writer.WriteAsync(line, cancellationToken);
        await _toSdk.Writer.WriteAsync("\n"u8.ToArray(), cancellationToken);
    }

    /// <summary>The gate's own answer to a <c>tools/call</c> request it refuses, or null to pass the line on.</summary>
    private async Task<JsonRpcMessage?> AnswerAsync(byte[] line, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException)
        {
            return null; // Not JSON: the SDK answers a parse error.
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !TryGetId(root, out var id)
                || !root.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String || !method.ValueEquals("tools/call"))
            {
                return null;
            }

            if (!root.TryGetProperty("params", out var parameters) || parameters.ValueKind != JsonValueKind.Object)
            {
                return InvalidParams(id, "params", "must be an object such as {\"name\": \"run_code\", \"arguments\": {...}}");
            }

            if (!parameters.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            {
                return InvalidParams(id, "params.name", $"must be a string naming a tool: {ToolDefinitions.RunCode}, {ToolDefinitions.ListLanguages} or {ToolDefinitions.GetRun}");
            }

            var hasArguments = parameters.TryGetProperty("arguments", out var arguments) && arguments.ValueKind != JsonValueKind.Null;
            if (name.ValueEquals(ToolDefinitions.RunCode) && StrictJson.Check(JsonMarshal.GetRawUtf8Value(name)) is null)
            {
                var (request, errors) = hasArguments ? RunCodeArguments.Parse(JsonMarshal.GetRawUtf8Value(arguments).ToArray()) : RunCodeArguments.Parse((IDictionary<string, JsonElement>?)null);
                // run_code's session argument is the tool's, not the run request's: the tool itself checks it.
                errors = _tools.OffersSessions ? [.. errors.Where(e => e.Field != Sessions.SessionTools.SessionArgument)] : errors;
                if (request is null && errors.Count > 0)
                {
                    var language = hasArguments && arguments.ValueKind == JsonValueKind.Object && arguments.TryGetProperty(RunCodeArguments.Language, out var l) && l.ValueKind == JsonValueKind.String
                        && StrictJson.Check(JsonMarshal.GetRawUtf8Value(l)) is null ? l.GetString() : null;
                    var refused = await _tools.RefuseRunCodeAsync(errors, language, cancellationToken);
                    return new JsonRpcResponse { Id = id, Result = JsonSerializer.SerializeToNode(refused, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CallToolResult))) };
                }
            }

            if (hasArguments && arguments.ValueKind != JsonValueKind.Object)
            {
                return InvalidParams(id, "params.arguments", "must be an object of the tool's arguments");
            }

            // The envelope itself: a name given twice, or text that is not Unicode, would otherwise fail inside the SDK naming nothing.
            if (StrictJson.Check(line) is { Field: { } field } problem)
            {
                return InvalidParams(id, field, problem.Message);
            }

            return null;
        }
    }

    private static JsonRpcError InvalidParams(RequestId id, string field, string message) => new()
    {
        Id = id,
        Error = new JsonRpcErrorDetail { Code = (int)McpErrorCode.InvalidParams, Message = $"{field}: {message}" },
    };

    /// <summary>A request's id (a string or a whole number); a notification has none and is never answered.</summary>
    private static bool TryGetId(JsonElement root, out RequestId id)
    {
        id = default;
        if (!root.TryGetProperty("id", out var value))
        {
            return false;
        }

        if (value.ValueKind == JsonValueKind.String && StrictJson.Check(JsonMarshal.GetRawUtf8Value(value)) is null)
        {
            id = new RequestId(value.GetString()!);
            return true;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number))
        {
            id = new RequestId(number);
            return true;
        }

        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "an MCP message longer than {MaxBytes} bytes was dropped unread")]
        public static partial void LineTooLong(ILogger logger, int maxBytes);

        [LoggerMessage(2, LogLevel.Error, "the MCP gate failed on a message; it went to the SDK unchecked")]
        public static partial void GateFailed(ILogger logger, Exception exception);
    }
}
