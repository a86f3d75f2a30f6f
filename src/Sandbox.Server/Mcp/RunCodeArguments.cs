using System.Text.Json;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;

namespace Sandbox.Server.Mcp;

/// <summary>
/// Turns <c>run_code</c>'s arguments into a <see cref="RunRequest"/>, reporting every problem at once with
/// the argument's path (<c>files[1].content</c>), the way the HTTP API names fields. Unknown arguments are
/// errors: a model that writes <c>timeout</c> instead of <c>limits.wallTimeMs</c> should hear about it rather
/// than get a run with the default limit.
/// </summary>
internal static class RunCodeArguments
{
    public const string Language = "language";
    public const string Code = "code";
    public const string Stdin = "stdin";
    public const string Files = "files";
    public const string Profile = "profile";
    public const string Limits = "limits";
    public const string Purpose = "purpose";

    private static readonly string[] s_names = [Language, Code, Stdin, Files, Profile, Limits, Purpose];

    private static readonly string[] s_limitNames =
    [
        LimitNames.WallTimeMs, LimitNames.CpuTimeMs, LimitNames.MemoryBytes, LimitNames.Pids,
        LimitNames.StdoutBytes, LimitNames.StderrBytes, LimitNames.FileSizeBytes, LimitNames.TmpBytes,
    ];

    public static (RunRequest? Request, IReadOnlyList<FieldError> Errors) Parse(IDictionary<string, JsonElement>? arguments)
    {
        var errors = new List<FieldError>();
        arguments ??= new Dictionary<string, JsonElement>();

        foreach (var name in arguments.Keys.Where(k => !s_names.Contains(k, StringComparer.Ordinal)).Order(StringComparer.Ordinal))
        {
            errors.Add(new FieldError(name, $"is not an argument of run_code; the arguments are {string.Join(", ", s_names)}"));
        }

        var language = RequiredString(arguments, Language, errors);
        var code = RequiredString(arguments, Code, errors);
        // Optional, as over HTTP: one rule for every front end (README, "purpose"). The guard cannot check what it
        // says, so requiring it only taught callers to write filler; the guard bounds its length for both.
        var purpose = OptionalString(arguments, Purpose, errors);
        var stdin = OptionalString(arguments, Stdin, errors);
        var profile = OptionalString(arguments, Profile, errors);
        var files = ParseFiles(arguments, errors);
        var limits = ParseLimits(arguments, errors);

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        return (new RunRequest
        {
            Language = language!,
            Code = code!,
            Stdin = stdin,
            Files = files,
            Profile = string.IsNullOrWhiteSpace(profile) ? null : profile,
            Limits = limits,
            Purpose = string.IsNullOrWhiteSpace(purpose) ? null : purpose,
        }, errors);
    }

    private static string? RequiredString(IDictionary<string, JsonElement> arguments, string name, List<FieldError> errors)
    {
        if (!arguments.TryGetValue(name, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            errors.Add(new FieldError(name, "is required"));
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(new FieldError(name, $"must be a string (got {Kind(value)})"));
            return null;
        }

        var text = value.GetString()!;
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add(new FieldError(name, "must not be empty"));
            return null;
        }

        return text;
    }

    private static string? OptionalString(IDictionary<string, JsonElement> arguments, string name, List<FieldError> errors)
    {
        if (!arguments.TryGetValue(name, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(new FieldError(name, $"must be a string (got {Kind(value)})"));
            return null;
        }

        return value.GetString();
    }

    private static List<InputFile>? ParseFiles(IDictionary<string, JsonElement> arguments, List<FieldError> errors)
    {
        if (!arguments.TryGetValue(Files, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new FieldError(Files, $"must be an array of {{\"path\", \"content\"}} objects (got {Kind(value)})"));
            return null;
        }

        var files = new List<InputFile>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var field = $"{Files}[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new FieldError(field, $"must be an object with \"path\" and \"content\" (got {Kind(item)})"));
                continue;
            }

            string? path = null, content = null;
            foreach (var property in item.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "path" when property.Value.ValueKind == JsonValueKind.String:
                        path = property.Value.GetString();
                        break;
                    case "content" when property.Value.ValueKind == JsonValueKind.String:
                        content = property.Value.GetString();
                        break;
                    case "path" or "content":
                        errors.Add(new FieldError($"{field}.{property.Name}", $"must be a string (got {Kind(property.Value)})"));
                        break;
                    default:
                        errors.Add(new FieldError($"{field}.{property.Name}", "is not a member of a file; a file has \"path\" and \"content\""));
                        break;
                }
            }

            if (path is null && !item.TryGetProperty("path", out _))
            {
                errors.Add(new FieldError($"{field}.path", "is required (relative, such as data/input.csv)"));
            }

            if (content is null && !item.TryGetProperty("content", out _))
            {
                errors.Add(new FieldError($"{field}.content", "is required (the file's text)"));
            }

            if (path is not null && content is not null)
            {
                files.Add(new InputFile { Path = path, Content = content });
            }
        }

        return files;
    }

    private static LimitOverrides? ParseLimits(IDictionary<string, JsonElement> arguments, List<FieldError> errors)
    {
        if (!arguments.TryGetValue(Limits, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(Limits, $"must be an object such as {{\"wallTimeMs\": 2000}} (got {Kind(value)})"));
            return null;
        }

        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            var field = $"{Limits}.{property.Name}";
            if (!s_limitNames.Contains(property.Name, StringComparer.Ordinal))
            {
                errors.Add(new FieldError(field, $"is not a limit; the limits are {string.Join(", ", s_limitNames)}"));
            }
            else if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }
            else if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt64(out var number))
            {
                errors.Add(new FieldError(field, $"must be a whole number (got {Kind(property.Value)})"));
            }
            else if (number <= 0 || (property.Name == LimitNames.Pids && number > int.MaxValue))
            {
                errors.Add(new FieldError(field, $"must be a positive whole number (got {number})"));
            }
            else
            {
                values[property.Name] = number;
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
