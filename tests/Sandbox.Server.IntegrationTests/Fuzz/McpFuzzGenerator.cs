using System.Text;

namespace Sandbox.Server.IntegrationTests.Fuzz;

/// <summary>
/// Seeded hostile <c>tools/call run_code</c> requests for <c>sandbox mcp</c>, as raw lines: wrong types, keys given
/// twice, lone surrogates and bytes that are not UTF-8, unknown and null fields, broken files and limits, arguments
/// that are not an object and broken call envelopes. Each names the field its answer must name, when there is one.
/// </summary>
internal sealed class McpFuzzGenerator(int seed)
{
    private static readonly string[] s_stringFields = ["language", "code", "stdin", "profile", "runtime", "backend", "purpose"];
    private static readonly string[] s_limits = ["wallTimeMs", "cpuTimeMs", "memoryBytes", "pids", "stdoutBytes", "stderrBytes", "fileSizeBytes", "tmpBytes"];
    private static readonly string[] s_wrongValues = ["1", "true", "[]", "{}", "[\"a\"]", "-0.5", "1e400", "{\"a\":{\"b\":[1]}}"];
    private static readonly string[] s_hostile = ["\\u0000", "\\u001b[31m", "\\u202e", "\\r\\nX-Injected: 1", "../../etc/passwd", "\\ufeff", "%s%n", "{{7*7}}", "\\\\"];

    private readonly int _seed = seed;
    private int _validLeft = 3;

    /// <summary>The <paramref name="index"/>-th request: the same seed and index give the same bytes.</summary>
    public McpFuzzRequest Next(int index)
    {
        var random = new Random(HashCode.Combine(_seed, index));
        var field = s_stringFields[random.Next(s_stringFields.Length)];
        var limit = s_limits[random.Next(s_limits.Length)];
        switch (random.Next(16))
        {
            case 0:
                return Args("wrong type", $"{{{Base(field)}\"{field}\":{Pick(random, s_wrongValues)}}}", field);
            case 1:
                return Args("key twice", $"{{{Base(field)}\"{field}\":\"a\",\"{field}\":\"b\"}}", field);
            case 2:
                return Args("key twice in limits", $"{{\"language\":\"bash\",\"code\":\"echo\",\"limits\":{{\"{limit}\":100,\"{limit}\":200}}}}", $"limits.{limit}");
            case 3:
                return Args("lone surrogate", $"{{{Base(field)}\"{field}\":\"a{Pick(random, ["\\ud800", "\\udfff", "\\ud800\\u0041"])}\"}}", field);
            case 4:
                return new McpFuzzRequest
                {
                    Mutation = "bytes that are not UTF-8 in " + field,
                    Arguments = [.. Encoding.UTF8.GetBytes($"{{\"language\":\"bash\",\"code\":\"echo\",\"x{field}\":\""), 0xC3, 0x28, 0xFF, .. "\"}"u8],
                    ExpectField = null,
                };
            case 5:
                var unknown = Pick(random, ["timeout", "dryRun", "__proto__", "", "Language", "limits.wallTimeMs", "\\u202eevil"]);
                return Args("unknown field", $"{{\"language\":\"bash\",\"code\":\"echo\",\"{unknown}\":1}}", null);
            case 6:
                var file = Pick(random, ["null", "3", "\"a\"", "{}", "{\"path\":null,\"content\":\"x\"}", "{\"path\":\"a\"}", "{\"path\":\"a\",\"content\":null}", "{\"path\":\"a\",\"content\":\"x\",\"mode\":7}", "{\"path\":\"a\",\"path\":\"b\",\"content\":\"\"}"]);
                return Args("bad file " + file, $"{{\"language\":\"bash\",\"code\":\"echo\",\"files\":[{{\"path\":\"ok.txt\",\"content\":\"\"}},{file}]}}", "files[1");
            case 7:
                var path = Pick(random, ["../x", "/etc/passwd", "a/../../b", new string('p', 300), "a\\u0000b", "", ".", "/"]);
                return Args("bad file path", $"{{\"language\":\"bash\",\"code\":\"echo\",\"files\":[{{\"path\":\"{path}\",\"content\":\"x\"}}]}}", "files[0].path");
            case 8:
                return Args("file and folder at once", "{\"language\":\"bash\",\"code\":\"echo\",\"files\":[{\"path\":\"a\",\"content\":\"1\"},{\"path\":\"a/b\",\"content\":\"2\"}]}", "files[1].path");
            case 9:
                var value = Pick(random, ["0", "-1", "9223372036854775807", "-9223372036854775808", "\"100\"", "1.5", "1e3", "99999999999999999999", "\"\""]);
                return Args("limit " + value, $"{{\"language\":\"bash\",\"code\":\"echo\",\"limits\":{{\"{limit}\":{value}}}}}", $"limits.{limit}");
            case 10:
                var notObject = Pick(random, ["[]", "[1,2]", "\"x\"", "7", "true", "[{\"language\":\"bash\"}]"]);
                return Args("arguments not an object", notObject, "arguments");
            case 11:
                var envelope = Pick(random, [
                    "{\"name\":\"run_code\",\"name\":\"get_run\",\"arguments\":{\"language\":\"bash\",\"code\":\"echo\"}}",
                    "[\"run_code\"]",
                    "{\"name\":\"run_code\",\"arguments\":{\"language\":\"bash\",\"code\":\"echo\"},\"_meta\":{\"a\":\"\\ud800\"}}",
                    "{\"name\":\"get_run\",\"arguments\":{\"runId\":\"a\",\"runId\":\"b\"}}",
                    "{\"name\":\"get_run\",\"arguments\":[1]}",
                    "{\"name\":7}",
                    "{\"name\":\"no_such_tool\",\"arguments\":{}}",
                ]);
                return new McpFuzzRequest { Mutation = "envelope " + envelope, Params = Encoding.UTF8.GetBytes(envelope), ExpectField = null };
            case 12:
                var missing = Pick(random, ["{}", "{\"language\":\"bash\"}", "{\"code\":\"echo\"}", "{\"language\":null,\"code\":null}", "{\"language\":\"\",\"code\":\"echo\"}"]);
                return Args("required field missing", missing, missing.Contains("language\":\"bash", StringComparison.Ordinal) ? "code" : "language");
            case 13:
                var hostile = Pick(random, s_hostile);
                return Args("hostile " + field, $"{{\"language\":\"{(field == "language" ? hostile : "bash")}\",\"code\":\"echo\",\"profile\":\"{hostile}\"}}", null);
            case 14:
                var depth = random.Next(30, 200);
                return Args($"nested {depth} deep", $"{{\"language\":\"bash\",\"code\":\"echo\",\"limits\":{{\"pids\":{new string('[', depth)}{new string(']', depth)}}}}}", null);
            default:
                if (Interlocked.Decrement(ref _validLeft) >= 0)
                {
                    return Args("valid", "{\"language\":\"bash\",\"code\":\"echo fuzz\",\"limits\":{\"wallTimeMs\":5000}}", null) with { Valid = true };
                }

                return Args("huge language", $"{{\"language\":\"{new string('l', random.Next(1000, 100_000))}\",\"code\":\"echo\"}}", null);
        }
    }

    /// <summary>language and code, less <paramref name="except"/>, each followed by a comma.</summary>
    private static string Base(string except) =>
        (except == "language" ? "" : "\"language\":\"bash\",") + (except == "code" ? "" : "\"code\":\"echo\",");

    private static McpFuzzRequest Args(string mutation, string arguments, string? expectField) =>
        new() { Mutation = mutation, Arguments = Encoding.UTF8.GetBytes(arguments), ExpectField = expectField };

    private static string Pick(Random random, string[] values) => values[random.Next(values.Length)];
}

/// <summary>One hostile call: its arguments (or its whole <c>params</c>), and the field its answer must name.</summary>
internal sealed record McpFuzzRequest
{
    public required string Mutation { get; init; }

    public byte[]? Arguments { get; init; }

    public byte[]? Params { get; init; }

    /// <summary>A field path (or its start) the refusal must name; null when the answer may be any well-formed error.</summary>
    public string? ExpectField { get; init; }

    /// <summary>A request that must run: its answer is a result without isError.</summary>
    public bool Valid { get; init; }

    public byte[] Line(int id) =>
    [
        .. Encoding.UTF8.GetBytes($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":"),
        .. Params ?? [.. "{\"name\":\"run_code\",\"arguments\":"u8, .. Arguments!, .. "}"u8],
        .. "}"u8,
    ];
}
