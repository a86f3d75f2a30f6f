using System.Text.Json;
using ModelContextProtocol.Protocol;
using Sandbox.Core.Runs;
using Sandbox.Server.Sessions;

namespace Sandbox.Server.Mcp;

/// <summary>The session tools of the MCP server (see <see cref="SessionTools"/>).</summary>
internal sealed partial class SandboxMcpTools
{
    /// <summary>Whether this server offers sessions (the stdio gate then leaves run_code's session argument to the tool).</summary>
    internal bool OffersSessions => _sessions is not null;

    private bool IsSessionTool(string name) => _sessions is not null && name is SessionTools.OpenSession or SessionTools.CloseSession;

    private IList<Tool> WithSessionTools(IList<Tool> tools, LanguageCatalog catalog) => _sessions is null ? tools : SessionTools.Extend(tools, catalog);

    private async Task<CallToolResult> CallSessionToolAsync(string name, IDictionary<string, JsonElement>? arguments, CancellationToken cancellationToken)
    {
        var (fields, errors) = Strings(arguments, name == SessionTools.OpenSession ? ["language", "profile", "purpose"] : [SessionTools.SessionArgument]);
        var required = name == SessionTools.OpenSession ? "language" : SessionTools.SessionArgument;
        if (!fields.ContainsKey(required))
        {
            errors.Add(new FieldError(required, required == "language" ? "is required, such as \"python\"" : "is required: the id open_session returned"));
        }

        if (errors.Count > 0)
        {
            return ToolResults.FromArgumentErrors(errors, LanguageCatalog.Empty, null);
        }

        var answer = name == SessionTools.OpenSession
            ? await _sessions!.OpenAsync(new SessionRequestBody { Language = fields["language"], Profile = fields.GetValueOrDefault("profile"), Purpose = fields.GetValueOrDefault("purpose") }, cancellationToken)
            : await _sessions!.CloseAsync(fields[SessionTools.SessionArgument], cancellationToken);
        return answer.Session is { } session
            ? SessionTools.FromSession(session)
            : ToolResults.FromProblem(answer.Problem!, await CatalogAsync(cancellationToken), fields.GetValueOrDefault("language"));
    }

    /// <summary>The arguments as strings, each unknown or non-string one an error naming it.</summary>
    private static (Dictionary<string, string> Fields, List<FieldError> Errors) Strings(IDictionary<string, JsonElement>? arguments, IReadOnlyList<string> known)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var errors = new List<FieldError>();
        foreach (var (key, value) in arguments ?? new Dictionary<string, JsonElement>())
        {
            if (!known.Contains(key))
            {
                errors.Add(new FieldError(key, $"is not an argument of this tool; it takes {string.Join(", ", known)}"));
            }
            else if (value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text)
            {
                fields[key] = text;
            }
            else if (value.ValueKind != JsonValueKind.Null)
            {
                errors.Add(new FieldError(key, "must be a non-empty string"));
            }
        }

        return (fields, errors);
    }
}
