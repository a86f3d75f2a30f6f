using System.Buffers;
using System.Text.Json;
using Sandbox.Core.Runs;

namespace Sandbox.Server.Mcp;

/// <summary>
/// <c>run_code</c>'s arguments are a <see cref="RunRequest"/>, read by the one <see cref="RunRequestReader"/>: the
/// same fields, names and errors as the HTTP body (an unknown argument such as <c>timeout</c> is an error naming it,
/// not a run with the default limit). This is only the MCP side of it: the argument names for the tool's schema,
/// and the SDK's argument dictionary turned back into the JSON object it came from.
/// </summary>
internal static class RunCodeArguments
{
    public const string Language = RunRequestFields.Language;
    public const string Code = RunRequestFields.Code;
    public const string Stdin = RunRequestFields.Stdin;
    public const string Files = RunRequestFields.Files;
    public const string Profile = RunRequestFields.Profile;
    public const string Limits = RunRequestFields.Limits;
    public const string Runtime = RunRequestFields.Runtime;
    public const string Backend = RunRequestFields.Backend;
    public const string Purpose = RunRequestFields.Purpose;

    /// <summary>The request, or every argument that is wrong, each by its path (<c>files[1].content</c>).</summary>
    public static (RunRequest? Request, IReadOnlyList<FieldError> Errors) Parse(IDictionary<string, JsonElement>? arguments) =>
        Parse(Json(arguments));

    /// <summary>Reads the raw JSON of the arguments object, as the client sent it (the stdio transport's gate has it).</summary>
    public static (RunRequest? Request, IReadOnlyList<FieldError> Errors) Parse(ReadOnlyMemory<byte> arguments)
    {
        var reading = RunRequestReader.Read(arguments);
        return reading.Malformed is { } malformed
            ? (null, [new FieldError("arguments", malformed + "; send the arguments as one object such as {\"language\": \"python\", \"code\": \"print(1)\"}")])
            : (reading.Request, reading.Errors);
    }

    /// <summary>
    /// The dictionary as one JSON object again. Each value is written as the element the SDK parsed, so a key given
    /// twice inside <c>limits</c> or a file is still there for the reader to refuse.
    /// </summary>
    private static ReadOnlyMemory<byte> Json(IDictionary<string, JsonElement>? arguments)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in arguments ?? new Dictionary<string, JsonElement>())
            {
                writer.WritePropertyName(name);
                value.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }
}
