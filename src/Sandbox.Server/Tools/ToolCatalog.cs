using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Tools;

/// <summary>
/// The <c>run_code</c> tool as a model sees it: one description and one JSON schema, served by
/// <c>GET /v1/tools</c> for function-calling frameworks. Written for a model: the languages, their
/// limits, and what each status means.
/// </summary>
internal static class ToolCatalog
{
    public const string RunCode = "run_code";

    /// <summary>What each status means and what to do about it, in the words a model can act on.</summary>
    public static readonly IReadOnlyList<(string Status, string Meaning)> Statuses =
    [
        ("ok", "the program exited 0; stdout and stderr are in the result"),
        ("runtime_error", "the program exited non-zero or crashed; read stderr and fix the code"),
        ("compile_error", "the program did not compile (C, C#); the compiler's messages are in stderr"),
        ("timeout", "the wall-clock limit passed and the program was killed; make it faster or ask for less work"),
        ("cpu_limit", "the program used its CPU-time budget and was killed; reduce the computation"),
        ("memory_limit", "the program needed more memory than allowed and was killed; use less memory"),
        ("output_limit", "the program printed more than allowed and was stopped; print less"),
        ("rejected", "the request was invalid or not allowed and nothing ran; the message names the field to fix"),
        ("sandbox_error", "the sandbox itself failed, not the program; retrying later may help"),
        ("cancelled", "the run was cancelled by a caller or a shutdown"),
    ];

    public static string RunCodeDescription(IReadOnlyList<LanguageView> languages)
    {
        var text = new StringBuilder();
        text.Append("Run a program in an isolated sandbox with no network and no access to the host, and get its stdout, stderr, exit code and a status. ");
        text.Append("Each run starts fresh: no files or state survive between runs. Limits per language (default profile):");
        foreach (var l in languages)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n- {l.Language}: {Seconds(l.Limits.WallTimeMs)} wall time, {Seconds(l.Limits.CpuTimeMs)} CPU, {Mib(l.Limits.MemoryBytes)} memory, {Mib(l.Limits.StdoutBytes)} stdout");
        }

        text.Append("\nStatuses:");
        foreach (var (status, meaning) in Statuses)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n- {status}: {meaning}");
        }

        return text.ToString();
    }

    /// <summary>The JSON schema of <c>run_code</c>'s arguments.</summary>
    public static JsonObject RunCodeSchema(IReadOnlyList<LanguageView> languages) => new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["language"] = new JsonObject
            {
                ["type"] = "string",
                ["enum"] = new JsonArray([.. languages.Select(l => (JsonNode)JsonValue.Create(l.Language)!)]),
                ["description"] = "The programming language of the code.",
            },
            ["code"] = new JsonObject { ["type"] = "string", ["description"] = "The complete program's source text." },
            ["stdin"] = new JsonObject { ["type"] = "string", ["description"] = "Text given to the program on standard input." },
            ["files"] = new JsonObject
            {
                ["type"] = "array",
                ["description"] = "Extra input files placed next to the program, by relative path.",
                ["items"] = new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject
                    {
                        ["path"] = new JsonObject { ["type"] = "string" },
                        ["content"] = new JsonObject { ["type"] = "string" },
                    },
                    ["required"] = new JsonArray("path", "content"),
                },
            },
            ["profile"] = new JsonObject { ["type"] = "string", ["description"] = "A named profile other than the language's default (see list_languages)." },
            ["purpose"] = new JsonObject { ["type"] = "string", ["description"] = "Why you are running this code, in one sentence; it is kept in the audit trail." },
        },
        ["required"] = new JsonArray("language", "code", "purpose"),
        ["additionalProperties"] = false,
    };

    /// <summary>The OpenAI-style function-calling list: <c>[{"type":"function","function":{name, description, parameters}}]</c>.</summary>
    public static string FunctionToolsJson(IReadOnlyList<LanguageView> languages)
    {
        var tools = new JsonArray(new JsonObject
        {
            ["type"] = "function",
            ["function"] = new JsonObject
            {
                ["name"] = RunCode,
                ["description"] = RunCodeDescription(languages),
                ["parameters"] = RunCodeSchema(languages),
            },
        });
        return tools.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static string Seconds(long ms) => (ms / 1000.0).ToString("0.#", CultureInfo.InvariantCulture) + " s";

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB";
}
