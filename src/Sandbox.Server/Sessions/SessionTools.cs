using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using Sandbox.Server.Mcp;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Sessions;

/// <summary>
/// The MCP side of sessions: <c>open_session</c> and <c>close_session</c>, and the optional <c>session</c> argument of
/// <c>run_code</c>, added to the tool list only where sessions are served (not in <c>GET /v1/tools</c>, whose
/// <c>run_code</c> maps to <c>POST /v1/runs</c>).
/// </summary>
internal static class SessionTools
{
    public const string OpenSession = "open_session";
    public const string CloseSession = "close_session";
    public const string SessionArgument = "session";

    private const string WhenWorthIt =
        "A session is worth it when the next call needs what this one computed: data loaded once and explored cell after cell, " +
        "a model fitted then inspected, imports that are slow to repeat. For a single self-contained program, call run_code without one.";

    /// <summary>
    /// The structured content of open_session and close_session: the session (id, state, language, profile, limits, expiry),
    /// or on failure the same shape as run_code's (a status such as rejected, and the message).
    /// </summary>
    private static readonly JsonElement s_outputSchema = JsonSerializer.SerializeToElement(new JsonObject
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["id"] = new JsonObject { ["type"] = "string", ["description"] = "The session's id, to pass to run_code as session." },
            ["state"] = new JsonObject { ["type"] = "string", ["description"] = "open or closed." },
            ["status"] = new JsonObject { ["type"] = "string", ["description"] = "On failure only: why the call was refused (rejected, sandbox_error, ...)." },
        },
    }, SessionJsonContext.Default.JsonObject);

    /// <summary>The tool list with the session tools and <c>run_code</c>'s <c>session</c> argument.</summary>
    public static IList<Tool> Extend(IList<Tool> tools, LanguageCatalog catalog)
    {
        foreach (var tool in tools.Where(t => t.Name == ToolDefinitions.RunCode))
        {
            var schema = JsonNode.Parse(tool.InputSchema.GetRawText())!.AsObject();
            schema["properties"]![SessionArgument] = new JsonObject
            {
                ["type"] = "string",
                ["description"] = "Optional: the id of a session from open_session (ses_…). The code then runs as the session's next cell: variables, " +
                    "imports, functions and files from earlier cells are still there (in bash also the working directory and exported variables). " +
                    "In python and javascript the last expression's value is printed; in bash the exit code is the cell's $?. language must be the session's.",
            };
            tool.InputSchema = JsonSerializer.SerializeToElement(schema, SessionJsonContext.Default.JsonObject);
            tool.Description += "\n\nWith session (from open_session), the code runs in that session's interpreter instead of a fresh sandbox. " + WhenWorthIt;
        }

        // Only the languages with a session kernel that this agent may run: offering another would only earn a refusal.
        var kept = catalog.LanguageNames.Where(Docker.Sessions.DockerSessions.Languages.Contains).ToList();
        var languages = kept.Count > 0
            ? new JsonObject { ["type"] = "string", ["description"] = "The session's language.", ["enum"] = new JsonArray([.. kept.Select(n => (JsonNode)JsonValue.Create(n))]) }
            : new JsonObject { ["type"] = "string", ["description"] = "The session's language (python, javascript and bash have a session kernel)." };
        tools.Add(new Tool
        {
            Name = OpenSession,
            Title = "Open a sandbox session",
            Description = "Opens a session: one sandboxed interpreter kept between run_code calls that pass its id as session, so variables, " +
                "imports and files persist. " + WhenWorthIt + " Each cell still has its own time, CPU and output limits; a cell that breaks one ends " +
                "the interpreter (the result says the state is lost) and the next cell starts a fresh one. Sessions close when idle, at their " +
                "maximum lifetime, or with close_session; close it when done. Languages: python (one interpreter), javascript (one Node " +
                "context: top-level let/const/functions persist, top-level await works) and bash (one shell; a cell that runs exit ends it, " +
                "so the next cell starts fresh). WebAssembly profiles and compiled languages (C, C#) keep no sessions.",
            InputSchema = JsonSerializer.SerializeToElement(new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject
                {
                    ["language"] = languages,
                    ["profile"] = new JsonObject { ["type"] = "string", ["description"] = "A Docker profile of the language; its default when left out." },
                    ["purpose"] = new JsonObject { ["type"] = "string", ["description"] = "Why you open it, in one sentence (optional)." },
                },
                ["required"] = new JsonArray("language"),
                ["additionalProperties"] = false,
            }, SessionJsonContext.Default.JsonObject),
            OutputSchema = s_outputSchema,
            Annotations = new ToolAnnotations { ReadOnlyHint = false, DestructiveHint = false, IdempotentHint = false, OpenWorldHint = false },
        });
        tools.Add(new Tool
        {
            Name = CloseSession,
            Title = "Close a sandbox session",
            Description = "Closes a session from open_session now: its interpreter and everything in it are gone. Call it once the work needs no more cells.",
            InputSchema = JsonSerializer.SerializeToElement(new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject { [SessionArgument] = new JsonObject { ["type"] = "string", ["description"] = "The session's id (ses_…)." } },
                ["required"] = new JsonArray(SessionArgument),
                ["additionalProperties"] = false,
            }, SessionJsonContext.Default.JsonObject),
            OutputSchema = s_outputSchema,
            Annotations = new ToolAnnotations { ReadOnlyHint = false, DestructiveHint = true, IdempotentHint = true, OpenWorldHint = false },
        });
        return tools;
    }

    /// <summary>The <c>session</c> argument taken out of <c>run_code</c>'s arguments (the rest is a run request); an error when it is not a string.</summary>
    public static (string? Session, IDictionary<string, JsonElement>? Others, Core.Runs.FieldError? Error) Split(IDictionary<string, JsonElement>? arguments)
    {
        if (arguments is null || !arguments.TryGetValue(SessionArgument, out var value))
        {
            return (null, arguments, null);
        }

        var rest = arguments.Where(a => a.Key != SessionArgument).ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
        return value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } id
            ? (id, rest, null)
            : (null, rest, new Core.Runs.FieldError(SessionArgument, "must be the id of a session from open_session, such as ses_0195…"));
    }

    /// <summary>A cell's run view with what it did to its session told in the result's hint (the model reads the hint).</summary>
    public static RunView WithNotes(RunView view, SessionCellInfo session)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(session);
        if (view.Result is not { } result || !session.Notes.Contains("session_restarted"))
        {
            return view;
        }

        const string Restarted = "session_restarted: an earlier cell ended this session's interpreter, so this cell ran in a fresh one; variables, imports and files from before are gone";
        return view with { Result = result with { Hint = result.Hint is null ? Restarted : Restarted + ". " + result.Hint } };
    }

    /// <summary>The tool result of open_session and close_session.</summary>
    public static CallToolResult FromSession(SessionView session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var text = session.State == "open"
            ? $"Session {session.Id} is open: {session.Language} (profile {session.Profile}). Pass session: \"{session.Id}\" to run_code to run cells in it. " +
              $"Each cell may use up to {session.Limits.WallTimeMs} ms of wall time and {session.Limits.CpuTimeMs} ms of CPU; memory is {session.Limits.MemoryBytes / (1024 * 1024)} MiB for the whole session. " +
              $"It closes after {(session.IdleExpiresAt - session.LastUsedAt)?.TotalMinutes:0} idle minutes, at {session.ExpiresAt:u} at the latest, or with close_session."
            : $"Session {session.Id} is closed ({session.ClosedReason}); its interpreter and files are gone.";
        return new CallToolResult
        {
            Content = [new TextContentBlock { Text = text }],
            StructuredContent = JsonSerializer.SerializeToElement(session, SessionJsonContext.Default.SessionView),
            IsError = false,
        };
    }
}
