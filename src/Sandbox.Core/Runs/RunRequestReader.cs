using System.Text.Json;
using Sandbox.Core.Limits;
using Sandbox.Core.Serialization;

namespace Sandbox.Core.Runs;

/// <summary>
/// The one parser of a run request from JSON, for the HTTP body and the MCP tool's arguments alike. It is strict:
/// a key given twice, a lone surrogate, an unknown field, a null entry of <c>files</c> and a value of the wrong type
/// are each an error naming the field, and every such error is reported at once. Whether the values make sense
/// (sizes, limits, paths, profiles) is <see cref="RunRequestValidator"/>'s job, the same for every surface.
/// </summary>
public static class RunRequestReader
{
    private const string FileExample = "{\"path\": \"data.txt\", \"content\": \"...\"}";

    /// <summary>Reads <paramref name="json"/>, one JSON object of <see cref="RunRequestFields"/> and the surface's <paramref name="options"/>.</summary>
    /// <param name="json">UTF-8 JSON text.</param>
    /// <param name="options">Boolean fields the surface adds around the request (HTTP's <c>async</c>, <c>dryRun</c>, …); none for MCP.</param>
    public static RunRequestReading Read(ReadOnlyMemory<byte> json, IReadOnlyCollection<string>? options = null)
    {
        options ??= [];
        if (StrictJson.Check(json.Span) is { } strict)
        {
            return strict.Field is null
                ? new RunRequestReading { Malformed = strict.Message }
                : new RunRequestReading { Errors = [new FieldError(strict.Field, strict.Message)] };
        }

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return new RunRequestReading { Malformed = $"is {Kind(root)}, not one JSON object" };
        }

        var errors = new List<FieldError>();
        var chosen = new HashSet<string>(StringComparer.Ordinal);
        string? language = null, code = null, stdin = null, profile = null, runtime = null, backend = null, purpose = null;
        List<InputFile>? files = null;
        LimitOverrides? limits = null;
        foreach (var field in root.EnumerateObject())
        {
            var name = field.Name;
            var value = field.Value;
            switch (name)
            {
                case RunRequestFields.Language: language = Text(name, value, errors); break;
                case RunRequestFields.Code: code = Text(name, value, errors); break;
                case RunRequestFields.Stdin: stdin = Text(name, value, errors); break;
                case RunRequestFields.Profile: profile = Text(name, value, errors); break;
                case RunRequestFields.Runtime: runtime = Text(name, value, errors); break;
                case RunRequestFields.Backend: backend = Text(name, value, errors); break;
                case RunRequestFields.Purpose: purpose = Text(name, value, errors); break;
                case RunRequestFields.Files: files = ReadFiles(value, errors); break;
                case RunRequestFields.Limits: limits = ReadLimits(value, errors); break;
                case var option when options.Contains(option):
                    if (value.ValueKind == JsonValueKind.True)
                    {
                        chosen.Add(option);
                    }
                    else if (value.ValueKind != JsonValueKind.False)
                    {
                        errors.Add(WrongType(name, "true or false", value));
                    }

                    break;
                default:
                    errors.Add(new FieldError(name, $"is not a known field; the fields are {string.Join(", ", RunRequestFields.All.Concat(options))}"));
                    break;
            }
        }

        if (string.IsNullOrEmpty(language) && !errors.Any(e => e.Field == RunRequestFields.Language))
        {
            errors.Add(new FieldError(RunRequestFields.Language, "is required: the language to run, such as \"python\" (GET /v1/languages or list_languages names them)"));
        }

        if (code is null && !errors.Any(e => e.Field == RunRequestFields.Code))
        {
            errors.Add(new FieldError(RunRequestFields.Code, "is required: the program's source text"));
        }

        if (errors.Count > 0)
        {
            return new RunRequestReading { Errors = errors };
        }

        return new RunRequestReading
        {
            Request = new RunRequest
            {
                Language = language!,
                Code = code!,
                Stdin = stdin,
                Files = files,
                Profile = profile,
                Limits = limits,
                Runtime = runtime,
                Backend = backend,
                // Optional free text: blank is the same as none, so filler never reaches the audit trail as a reason.
                Purpose = string.IsNullOrWhiteSpace(purpose) ? null : purpose,
            },
            Options = chosen,
        };
    }

    private static string? Text(string field, JsonElement value, List<FieldError> errors)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return value.GetString();
            case JsonValueKind.Null:
                return null;
            default:
                errors.Add(WrongType(field, "a string", value));
                return null;
        }
    }

    private static List<InputFile>? ReadFiles(JsonElement value, List<FieldError> errors)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(WrongType(RunRequestFields.Files, $"an array of {FileExample} objects", value));
            return null;
        }

        var files = new List<InputFile>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var at = $"{RunRequestFields.Files}[{index++}]";
            if (item.ValueKind == JsonValueKind.Null)
            {
                // Refused here, before anything hashes or audits the request: a null entry is the caller's mistake, not a crash.
                errors.Add(new FieldError(at, $"is null; send an object such as {FileExample}"));
                continue;
            }

            if (item.ValueKind != JsonValueKind.Object)
            {
                errors.Add(WrongType(at, $"an object such as {FileExample}", item));
                continue;
            }

            string? path = null, content = null;
            foreach (var member in item.EnumerateObject())
            {
                var field = $"{at}.{member.Name}";
                switch (member.Name)
                {
                    case RunRequestFields.FilePath when member.Value.ValueKind == JsonValueKind.String:
                        path = member.Value.GetString();
                        break;
                    case RunRequestFields.FileContent when member.Value.ValueKind == JsonValueKind.String:
                        content = member.Value.GetString();
                        break;
                    case RunRequestFields.FilePath or RunRequestFields.FileContent:
                        errors.Add(member.Value.ValueKind == JsonValueKind.Null
                            ? new FieldError(field, member.Name == RunRequestFields.FilePath ? "is null; send a relative path such as \"data.txt\"" : "is null; send the file's text as a string (\"\" for an empty file)")
                            : WrongType(field, "a string", member.Value));
                        break;
                    default:
                        errors.Add(new FieldError(field, $"is not a known field; a file has \"{RunRequestFields.FilePath}\" and \"{RunRequestFields.FileContent}\""));
                        break;
                }
            }

            if (path is null && !item.TryGetProperty(RunRequestFields.FilePath, out _))
            {
                errors.Add(new FieldError($"{at}.{RunRequestFields.FilePath}", "is required: a relative path such as \"data.txt\""));
            }

            if (content is null && !item.TryGetProperty(RunRequestFields.FileContent, out _))
            {
                errors.Add(new FieldError($"{at}.{RunRequestFields.FileContent}", "is required: the file's text (\"\" for an empty file)"));
            }

            if (path is not null && content is not null)
            {
                files.Add(new InputFile { Path = path, Content = content });
            }
        }

        return files;
    }

    private static LimitOverrides? ReadLimits(JsonElement value, List<FieldError> errors)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(WrongType(RunRequestFields.Limits, "an object of limit names to whole numbers, such as {\"wallTimeMs\": 2000}", value));
            return null;
        }

        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var member in value.EnumerateObject())
        {
            var field = $"{RunRequestFields.Limits}.{member.Name}";
            if (!RunRequestFields.LimitNames.Contains(member.Name, StringComparer.Ordinal))
            {
                errors.Add(new FieldError(field, $"is not a known field; the limits are {string.Join(", ", RunRequestFields.LimitNames)}"));
            }
            else if (member.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }
            else if (member.Value.ValueKind != JsonValueKind.Number || !member.Value.TryGetInt64(out var number)
                || (member.Name == LimitNames.Pids && number is > int.MaxValue or < int.MinValue))
            {
                // Strict: "100" and 1e3 are refused, as the documents say; the validator checks the range.
                errors.Add(WrongType(field, "a whole number", member.Value));
            }
            else
            {
                values[member.Name] = number;
            }
        }

        return values.Count == 0 ? null : new LimitOverrides
        {
            WallTimeMs = Get(LimitNames.WallTimeMs),
            CpuTimeMs = Get(LimitNames.CpuTimeMs),
            MemoryBytes = Get(LimitNames.MemoryBytes),
            Pids = Get(LimitNames.Pids) is { } pids ? (int)pids : null,
            StdoutBytes = Get(LimitNames.StdoutBytes),
            StderrBytes = Get(LimitNames.StderrBytes),
            FileSizeBytes = Get(LimitNames.FileSizeBytes),
            TmpBytes = Get(LimitNames.TmpBytes),
        };

        long? Get(string name) => values.TryGetValue(name, out var v) ? v : null;
    }

    private static FieldError WrongType(string field, string expected, JsonElement got) =>
        new(field, $"has the wrong type; expected {expected} (got {Kind(got)})");

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };
}
