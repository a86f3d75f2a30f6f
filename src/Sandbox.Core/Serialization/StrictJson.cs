using System.Text;
using System.Text.Json;

namespace Sandbox.Core.Serialization;

/// <summary>
/// A pass over a JSON document before anything binds it: broken syntax is reported as such (with where it broke)
/// rather than as a wrong type on whichever field a binder had reached; a key given twice and a string that is not
/// valid UTF-16 (or not UTF-8) are refused, each naming its field. Every JSON body and every MCP argument object
/// goes through it, so the same input is refused the same way on every surface.
/// </summary>
public static class StrictJson
{
    private const string LoneSurrogate = "is not valid Unicode text: it has a lone surrogate (such as \\ud800 without the \\udc00-\\udfff that must follow it) or bytes that are not UTF-8; send the text as UTF-8 or escape both halves of the pair";

    /// <summary>The first problem with <paramref name="json"/>, or null when it is one well-formed, strict JSON value.</summary>
    public static StrictJsonError? Check(ReadOnlySpan<byte> json)
    {
        // Comments are refused like any other syntax error: a proxy that reads the body must see what we bind.
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        var open = new Stack<Container>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                    {
                        var container = open.Peek();
                        if (!TryGetString(ref reader, out var name))
                        {
                            return new StrictJsonError(Join(container.Path, Encoding.UTF8.GetString(reader.ValueSpan)), LoneSurrogate);
                        }

                        // Last-wins binding would let a proxy that checks the first `limits` see another request than the one that runs.
                        if (!container.Names!.Add(name))
                        {
                            return new StrictJsonError(Join(container.Path, name), "appears more than once in the same object; send each field once");
                        }

                        container.Pending = name;
                        break;
                    }

                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        open.Push(new Container(ValuePath(open), reader.TokenType == JsonTokenType.StartArray));
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        open.Pop();
                        break;
                    case JsonTokenType.String:
                    {
                        var path = ValuePath(open);
                        if (!TryGetString(ref reader, out _))
                        {
                            return new StrictJsonError(path, LoneSurrogate);
                        }

                        break;
                    }

                    default:
                        ValuePath(open);
                        break;
                }
            }

            return null;
        }
        catch (JsonException ex)
        {
            return new StrictJsonError(null, $"is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1})");
        }
    }

    /// <summary>
    /// Only an escaped string can hold a lone surrogate. The reader checks no UTF-8 until a value is read as text, so
    /// raw bytes that are not UTF-8 are refused here: in a key, reading the name threw out of the check as a 500.
    /// </summary>
    private static bool TryGetString(ref Utf8JsonReader reader, out string value)
    {
        value = "";
        if (!reader.ValueIsEscaped)
        {
            if (!System.Text.Unicode.Utf8.IsValid(reader.ValueSpan))
            {
                return false;
            }

            value = reader.TokenType == JsonTokenType.PropertyName ? reader.GetString()! : "";
            return true;
        }

        try
        {
            value = reader.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The path of the value about to be read: <c>limits.wallTimeMs</c>, <c>files[0].path</c>, or empty for the root.</summary>
    private static string ValuePath(Stack<Container> open)
    {
        if (!open.TryPeek(out var container))
        {
            return "";
        }

        if (container.IsArray)
        {
            return $"{container.Path}[{container.Index++}]";
        }

        return Join(container.Path, container.Pending ?? "");
    }

    private static string Join(string parent, string name) => parent.Length == 0 ? name : parent + "." + name;

    private sealed class Container(string path, bool isArray)
    {
        public string Path { get; } = path;

        public bool IsArray { get; } = isArray;

        public HashSet<string>? Names { get; } = isArray ? null : new HashSet<string>(StringComparer.Ordinal);

        public int Index { get; set; }

        public string? Pending { get; set; }
    }
}
