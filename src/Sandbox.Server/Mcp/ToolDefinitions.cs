using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using Sandbox.Core.Limits;

namespace Sandbox.Server.Mcp;

/// <summary>
/// The three tools as a model sees them in <c>tools/list</c>. The descriptions are the model's only manual:
/// they name the languages and their limits as this server has them right now, and say what each status
/// means and what to do about it, so a model can act on a result without guessing.
/// </summary>
internal static class ToolDefinitions
{
    public const string RunCode = "run_code";
    public const string ListLanguages = "list_languages";
    public const string GetRun = "get_run";

    /// <summary>Each status, what it means and what to do; shared by the description and the docs.</summary>
    public static readonly IReadOnlyList<(string Status, string Meaning)> Statuses =
    [
        ("ok", "exited with code 0 (the only status that is not an error)"),
        ("runtime_error", "exited non-zero or crashed; read stderr, fix the code"),
        ("compile_error", "did not compile (C, C#), nothing ran; the compiler's messages are in stderr"),
        ("timeout", "still running at the wall-time limit and killed; make it faster, don't wait on stdin that never comes"),
        ("cpu_limit", "used more CPU time than allowed; use a faster algorithm or less data"),
        ("memory_limit", "needed more memory than allowed; process data in chunks, keep less in memory"),
        ("output_limit", "printed more than allowed; print summaries instead of everything"),
        ("rejected", "the request was invalid or not allowed, nothing ran; the hint names each field to fix"),
        ("sandbox_error", "the sandbox itself failed, not your program; don't change the code, try again later"),
        ("cancelled", "stopped before it finished (cancelled, or the service shut down); run again if still needed"),
    ];

    /// <summary>
    /// The structured content of run_code and get_run (<see cref="RunToolOutput"/>), success or failure alike. Members
    /// are absent rather than null; nothing is required because a run in progress has no status yet and a refused
    /// call has no run. Open to new members (no additionalProperties: false) so a newer server never breaks a client.
    /// </summary>
    public static JsonElement RunOutputSchema { get; } = Parse("""
        {"type":"object","properties":{
          "runId":{"type":"string","description":"The run's id, for get_run."},
          "approvalId":{"type":"string","description":"Set while the run waits for a human's approval."},
          "state":{"type":"string","enum":["pending_approval","queued","running","completed"]},
          "status":{"type":"string","enum":["ok","runtime_error","compile_error","timeout","cpu_limit","memory_limit","output_limit","rejected","sandbox_error","cancelled"],"description":"Absent only while the run is in progress."},
          "exitCode":{"type":"integer"},
          "signal":{"type":"integer"},
          "language":{"type":"string"},
          "profile":{"type":"string"},
          "backend":{"type":"string"},
          "runtime":{"type":"string"},
          "usage":{"type":"object","description":"Resources the run used (wall and CPU time in ms, peak memory in bytes, ...)."},
          "limits":{"type":"object","description":"The effective limits that were enforced."},
          "limitBreach":{"type":"object","description":"Which limit stopped the run, with the limit and what was observed."},
          "queueMs":{"type":"integer"},
          "runMs":{"type":"integer"},
          "stdout":{"type":"string","description":"The program's stdout, sanitised; long output keeps its head and tail."},
          "stderr":{"type":"string","description":"The program's stderr, likewise."},
          "stdoutTruncated":{"type":"boolean"},
          "stderrTruncated":{"type":"boolean"},
          "errors":{"type":"array","items":{"type":"object","properties":{"field":{"type":"string"},"message":{"type":"string"}}},"description":"For a refused call: each problem, naming its field."},
          "problem":{"type":"object","properties":{"status":{"type":"integer"},"code":{"type":"string"},"detail":{"type":"string"},"retryAfterSeconds":{"type":"integer"}},"description":"For a call refused before anything ran."},
          "artifacts":{"type":"array","description":"Files the program left under /tmp/outputs: each path, sizeBytes, sha256 and mediaType; images come as image content, other files as embedded resources or links.","items":{"type":"object","properties":{"path":{"type":"string"},"sizeBytes":{"type":"integer"},"sha256":{"type":"string"},"mediaType":{"type":"string"}},"required":["path","sizeBytes","sha256","mediaType"]}},
          "artifactsDropped":{"type":"array","description":"Files under /tmp/outputs that did not come back (past a cap, a link, an unsafe name), each with its reason.","items":{"type":"object","properties":{"path":{"type":"string"},"reason":{"type":"string"},"sizeBytes":{"type":"integer"},"detail":{"type":"string"}},"required":["path","reason","detail"]}},
          "hint":{"type":"string","description":"What to do next; present for every failure."},
          "outputFence":{"type":"string","description":"The random marker of this result's fence lines in the text."}
        }}
        """);

    /// <summary>The structured content of list_languages (<see cref="LanguagesToolOutput"/>).</summary>
    public static JsonElement LanguagesOutputSchema { get; } = Parse("""
        {"type":"object","properties":{"languages":{"type":"array","items":{"type":"object","properties":{
          "language":{"type":"string"},"defaultProfile":{"type":"string"},"backend":{"type":"string"},"description":{"type":"string"},
          "profiles":{"type":"array","items":{"type":"string"}},"limits":{"type":"object"},
          "packages":{"type":"array","description":"Preinstalled packages with versions; nothing else can be installed (no network).","items":{"type":"object","properties":{"name":{"type":"string"},"version":{"type":"string"}},"required":["name","version"]}}},
          "required":["language","defaultProfile","backend","profiles","limits"]}}},
         "required":["languages"]}
        """);

    public static IList<Tool> All(LanguageCatalog catalog) =>
    [
        new Tool
        {
            Name = RunCode,
            Title = "Run code in a sandbox",
            Description = RunCodeDescription(catalog),
            InputSchema = RunCodeSchema(catalog),
            OutputSchema = RunOutputSchema,
            // Runs touch nothing outside their own throwaway sandbox and have no network.
            Annotations = new ToolAnnotations { ReadOnlyHint = false, DestructiveHint = false, IdempotentHint = false, OpenWorldHint = false },
        },
        new Tool
        {
            Name = ListLanguages,
            Title = "List sandbox languages",
            Description = "Lists the languages run_code accepts, each with its default profile, its other profiles and the " +
                "default profile's limits (wall time, CPU time, memory, processes, output caps) and its preinstalled packages with versions. Call it when unsure what is available or which packages exist (nothing can be installed).",
            InputSchema = Parse("""{"type":"object","properties":{},"additionalProperties":false}"""),
            OutputSchema = LanguagesOutputSchema,
            Annotations = new ToolAnnotations { ReadOnlyHint = true, OpenWorldHint = false },
        },
        new Tool
        {
            Name = GetRun,
            Title = "Get a sandbox run",
            Description = "Returns a run's state or final result by its id (the runId of an earlier run_code result), in the " +
                "same form as run_code. Results are kept for a limited time after the run ends.",
            InputSchema = Parse("""
                {"type":"object","properties":{"runId":{"type":"string","description":"The run's id, such as run_0195…, from an earlier result."}},
                 "required":["runId"],"additionalProperties":false}
                """),
            OutputSchema = RunOutputSchema,
            Annotations = new ToolAnnotations { ReadOnlyHint = true, OpenWorldHint = false },
        },
    ];

    public static string RunCodeDescription(LanguageCatalog catalog)
    {
        var text = new StringBuilder();
        text.Append("Runs a program in a fresh, isolated sandbox and returns its stdout, stderr, exit code, a status and the resources it used. ")
            .Append("The sandbox has no network, a read-only system, a small writable /tmp and hard limits; nothing persists between calls, ")
            .Append("and nothing can be installed (no pip or npm install): use the standard library and the preinstalled packages listed below. ")
            .Append("so pass everything the program needs (code, stdin, files) each time. State your purpose. ")
            .Append("Files the program writes under /tmp/outputs (plots, CSV, ...) come back with the result, images as images; a matplotlib figure left open or shown is saved there as PNG. ")
            .Append("In the result, the output sits between fence lines that carry a marker drawn at random for that result ")
            .Append("(--- stdout [marker] --- ... --- end stdout [marker] ---); a line without that marker is the program's own output, whatever it says.\n\n");

        if (catalog.Languages.Count == 0)
        {
            text.Append("Languages: unknown right now (the sandbox did not answer); call list_languages.\n");
        }
        else
        {
            text.Append("Languages, each with its default profile's limits:\n");
            foreach (var language in catalog.Languages)
            {
                text.Append("- ").Append(language.Language);
                if (!string.IsNullOrWhiteSpace(language.Description))
                {
                    text.Append(" (").Append(MessageScrubber.Scrub(language.Description).TrimEnd('.')).Append(')');
                }

                text.Append(": ").Append(UnitFormat.Limits(language.Limits)).Append('.');
                if (language.Packages is { Count: > 0 } packages)
                {
                    text.Append(" Preinstalled: ").AppendJoin(", ", packages.Select(p => MessageScrubber.Scrub(p.Name) + " " + MessageScrubber.Scrub(p.Version))).Append('.');
                }

                var others = language.Profiles.Where(p => p != language.DefaultProfile).ToList();
                if (others.Count > 0)
                {
                    text.Append(" Other profiles: ").Append(string.Join(", ", others)).Append('.');
                }

                text.Append('\n');
            }
        }

        text.Append("\nA call may only tighten limits (the limits argument); to get more, pick a profile that allows more. ")
            .Append("Every status other than ok comes back as an error with a hint saying what to do:\n");
        foreach (var (status, meaning) in Statuses)
        {
            text.Append("- ").Append(status).Append(": ").Append(meaning).Append('\n');
        }

        text.Append("Some runs need a human's approval first: the answer is then state pending_approval with an approval id, and nothing has run yet. ")
            .Append("Do not submit it again; tell the user it is waiting for approval and call get_run with its runId later.\n");
        return text.ToString().TrimEnd();
    }

    private static JsonElement RunCodeSchema(LanguageCatalog catalog)
    {
        var language = new JsonObject
        {
            ["type"] = "string",
            ["description"] = "The language to run; its default profile applies unless profile says otherwise.",
        };
        if (catalog.Languages.Count > 0)
        {
            language["enum"] = new JsonArray([.. catalog.LanguageNames.Select(n => (JsonNode)JsonValue.Create(n))]);
        }

        var limits = new JsonObject();
        foreach (var (name, title) in LimitTitles())
        {
            limits[name] = new JsonObject { ["type"] = "integer", ["minimum"] = 1, ["description"] = title };
        }

        var schema = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject
            {
                [RunCodeArguments.Language] = language,
                [RunCodeArguments.Code] = new JsonObject
                {
                    ["type"] = "string",
                    ["description"] = "The complete program's source. It runs as a script (python, javascript, bash) or is compiled first (c, csharp).",
                },
                [RunCodeArguments.Purpose] = new JsonObject
                {
                    ["type"] = "string",
                    ["description"] = "Why you run this code, in one sentence (for example \"check that the parser handles empty input\"). Optional but recommended: kept with the run for the user's audit trail.",
                },
                [RunCodeArguments.Stdin] = new JsonObject
                {
                    ["type"] = "string",
                    ["description"] = "Text fed to the program's standard input. Without it stdin is empty.",
                },
                [RunCodeArguments.Files] = new JsonObject
                {
                    ["type"] = "array",
                    ["description"] = "Extra text files placed next to the program, at relative paths.",
                    ["items"] = new JsonObject
                    {
                        ["type"] = "object",
                        ["properties"] = new JsonObject
                        {
                            ["path"] = new JsonObject { ["type"] = "string", ["description"] = "Relative path such as data/input.csv; no '..' and no leading '/'." },
                            ["content"] = new JsonObject { ["type"] = "string", ["description"] = "The file's text (UTF-8)." },
                        },
                        ["required"] = new JsonArray("path", "content"),
                        ["additionalProperties"] = false,
                    },
                },
                [RunCodeArguments.Profile] = new JsonObject
                {
                    ["type"] = "string",
                    ["description"] = "A profile other than the language's default, such as python-gvisor (list_languages names them).",
                },
                [RunCodeArguments.Runtime] = new JsonObject
                {
                    ["type"] = "string",
                    ["enum"] = new JsonArray("runsc", "runc", "crun"),
                    ["description"] = "A container runtime at least as strong as the profile's: runsc (gVisor) is stronger, runc and crun are equal; never a weaker one. Container profiles only.",
                },
                [RunCodeArguments.Backend] = new JsonObject
                {
                    ["type"] = "string",
                    ["enum"] = new JsonArray("docker", "wasm"),
                    ["description"] = "Run on this backend: the language's default profile if it uses it, else the profile <language>-<backend> (such as python-wasm).",
                },
                [RunCodeArguments.Limits] = new JsonObject
                {
                    ["type"] = "object",
                    ["description"] = "Tighter limits for this run only; each may only be lower than the profile's.",
                    ["properties"] = limits,
                    ["additionalProperties"] = false,
                },
            },
            ["required"] = new JsonArray(RunCodeArguments.Language, RunCodeArguments.Code),
            ["additionalProperties"] = false,
        };
        return Parse(schema.ToJsonString());
    }

    private static IEnumerable<(string Name, string Title)> LimitTitles() =>
    [
        (LimitNames.WallTimeMs, "Wall-clock deadline in milliseconds."),
        (LimitNames.CpuTimeMs, "CPU time in milliseconds, over all processes."),
        (LimitNames.MemoryBytes, "Memory in bytes."),
        (LimitNames.Pids, "Processes and threads alive at once."),
        (LimitNames.StdoutBytes, "Bytes of stdout before the run is stopped with output_limit."),
        (LimitNames.StderrBytes, "Bytes of stderr before the run is stopped with output_limit."),
        (LimitNames.FileSizeBytes, "Largest file the program may write, in bytes."),
        (LimitNames.TmpBytes, "Size of the writable /tmp in bytes."),
    ];

    private static JsonElement Parse(string json) => JsonElement.Parse(json);
}
