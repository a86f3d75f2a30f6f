using System.Text.Json;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using Sandbox.Core.Runs;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Mcp;

/// <summary>
/// The tools behind <c>tools/list</c> and <c>tools/call</c>, independent of the transport so tests can call
/// them directly. Each call asks the gateway for the current languages, so descriptions and hints follow the
/// profiles the sandbox actually has.
/// </summary>
internal sealed partial class SandboxMcpTools
{
    private readonly IRunGateway _gateway;
    private readonly Sessions.ISessionGateway? _sessions;
    private readonly IReadOnlyList<ProfileCeiling>? _profiles;
    private readonly ILogger<SandboxMcpTools> _logger;

    /// <param name="gateway">Local backends or a remote Sandbox service.</param>
    /// <param name="profiles">Every profile's limits when known (local backends), for "the profile allows up to" hints; else only the defaults are known.</param>
    /// <param name="logger">Writes to stderr only: stdout carries JSON-RPC.</param>
    /// <param name="sessions">Sessions, where this server offers them (open_session, close_session, run_code's session); null for none.</param>
    public SandboxMcpTools(IRunGateway gateway, IReadOnlyList<ProfileCeiling>? profiles, ILogger<SandboxMcpTools> logger, Sessions.ISessionGateway? sessions = null)
    {
        _gateway = gateway;
        _sessions = sessions;
        _profiles = profiles;
        _logger = logger;
    }

    public async ValueTask<ListToolsResult> ListToolsAsync(CancellationToken cancellationToken) =>
        new() { Tools = WithSessionTools(ToolDefinitions.All(await CatalogAsync(cancellationToken)), await CatalogAsync(cancellationToken)) };

    public async ValueTask<CallToolResult> CallAsync(string name, IDictionary<string, JsonElement>? arguments, CancellationToken cancellationToken)
    {
        if (name is not (ToolDefinitions.RunCode or ToolDefinitions.ListLanguages or ToolDefinitions.GetRun) && !IsSessionTool(name))
        {
            // A protocol error, not a tool result: the model asked for a tool that was never listed.
            throw new McpProtocolException(
                $"Unknown tool '{name}'; the tools are {ToolDefinitions.RunCode}, {ToolDefinitions.ListLanguages} and {ToolDefinitions.GetRun}.",
                McpErrorCode.InvalidParams);
        }

        try
        {
            return name switch
            {
                ToolDefinitions.RunCode => await RunCodeAsync(arguments, cancellationToken),
                ToolDefinitions.ListLanguages => await ListLanguagesAsync(cancellationToken),
                Sessions.SessionTools.OpenSession or Sessions.SessionTools.CloseSession => await CallSessionToolAsync(name, arguments, cancellationToken),
                _ => await GetRunAsync(arguments, cancellationToken),
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // The exception (with its paths and stack) goes to the operator's log, never to the model.
            Log.ToolFailed(_logger, name, ex);
            return ToolResults.InternalError();
        }
    }

    private async Task<CallToolResult> RunCodeAsync(IDictionary<string, JsonElement>? arguments, CancellationToken cancellationToken)
    {
        var (session, rest, sessionError) = _sessions is null ? (null, arguments, null) : Sessions.SessionTools.Split(arguments);
        var (request, errors) = RunCodeArguments.Parse(rest);
        if (sessionError is not null)
        {
            errors = [sessionError, .. errors];
            request = null;
        }

        if (request is null)
        {
            var language = arguments is not null && arguments.TryGetValue(RunCodeArguments.Language, out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null;
            return await RefuseRunCodeAsync(errors, language, cancellationToken);
        }

        Log.RunRequested(_logger, request.Language, request.Profile ?? "default");
        Log.Purpose(_logger, request.Purpose);
        var answer = session is null ? await _gateway.RunAsync(request, cancellationToken) : await _sessions!.RunCellAsync(session, request, cancellationToken);
        if (answer.Run?.Result is { } result)
        {
            Log.RunAnswered(_logger, result.RunId, result.Status.ToWireName());
        }
        else if (answer.Problem is { } problem)
        {
            Log.RunRefused(_logger, problem.Status, problem.Code);
        }

        // Only failures need the catalog (for hints), so a successful run costs no extra gateway call.
        var catalog = answer.Run?.Result?.Status == RunStatus.Ok ? LanguageCatalog.Empty : await CatalogAsync(cancellationToken);
        return await WithArtifactsAsync(ToolResults.FromGateway(answer, catalog, request.Language), answer, cancellationToken);
    }

    /// <summary>The tool error for <c>run_code</c> arguments that are not a run request: every field named, nothing sent.</summary>
    public async Task<CallToolResult> RefuseRunCodeAsync(IReadOnlyList<FieldError> errors, string? requestedLanguage, CancellationToken cancellationToken)
    {
        Log.ArgumentsRejected(_logger, errors.Count);
        return ToolResults.FromArgumentErrors(errors, await CatalogAsync(cancellationToken), requestedLanguage);
    }

    private async Task<CallToolResult> GetRunAsync(IDictionary<string, JsonElement>? arguments, CancellationToken cancellationToken)
    {
        if (arguments is null || !arguments.TryGetValue("runId", out var value) || value.ValueKind != JsonValueKind.String
            || value.GetString() is not { Length: > 0 } id)
        {
            return ToolResults.FromArgumentErrors(
                [new FieldError("runId", "is required: the runId of an earlier run_code result")], LanguageCatalog.Empty, null);
        }

        var answer = await _gateway.GetRunAsync(id, cancellationToken);
        var catalog = answer.Run?.Result?.Status is null or RunStatus.Ok ? LanguageCatalog.Empty : await CatalogAsync(cancellationToken);
        return await WithArtifactsAsync(ToolResults.FromGateway(answer, catalog), answer, cancellationToken);
    }

    /// <summary>The run's artifacts appended to its result as content blocks (see <see cref="ArtifactBlocks"/>).</summary>
    private async Task<CallToolResult> WithArtifactsAsync(CallToolResult result, GatewayResult answer, CancellationToken cancellationToken)
    {
        foreach (var block in await ArtifactBlocks.ForAsync(answer, _gateway, cancellationToken))
        {
            result.Content.Add(block);
        }

        return result;
    }

    private async Task<CallToolResult> ListLanguagesAsync(CancellationToken cancellationToken)
    {
        try
        {
            return ToolResults.FromLanguages(new LanguageCatalog(await _gateway.ListLanguagesAsync(cancellationToken), _profiles));
        }
        catch (HttpRequestException ex)
        {
            // Only the remote gateway does HTTP; its message names the service's address, which the operator chose, and no host path.
            Log.LanguagesUnavailable(_logger, ex);
            return ToolResults.FromProblem(new ApiProblem
            {
                Status = 503,
                Code = "service_unreachable",
                Title = "The Sandbox service cannot be reached",
                Detail = "could not list the languages: " + ex.Message,
                RetryAfterSeconds = 5,
            }, LanguageCatalog.Empty);
        }
    }

    /// <summary>The gateway's languages; when it cannot say, an empty catalog (descriptions then say so) rather than no tools at all.</summary>
    private async Task<LanguageCatalog> CatalogAsync(CancellationToken cancellationToken)
    {
        try
        {
            return new LanguageCatalog(await _gateway.ListLanguagesAsync(cancellationToken), _profiles);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.LanguagesUnavailable(_logger, ex);
            return new LanguageCatalog([], _profiles);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "run_code: {Language} (profile {Profile})")]
        public static partial void RunRequested(ILogger logger, string language, string profile);

        // The agent's stated purpose is its own words about the user's task: debug level, like code and stdin.
        [LoggerMessage(2, LogLevel.Debug, "run_code purpose: {Purpose}")]
        public static partial void Purpose(ILogger logger, string? purpose);

        [LoggerMessage(3, LogLevel.Information, "run_code: run {RunId} ended {Status}")]
        public static partial void RunAnswered(ILogger logger, string runId, string status);

        [LoggerMessage(4, LogLevel.Information, "run_code: refused with {HttpStatus} {Code}")]
        public static partial void RunRefused(ILogger logger, int httpStatus, string code);

        [LoggerMessage(5, LogLevel.Information, "run_code: {Count} argument error(s); nothing was sent")]
        public static partial void ArgumentsRejected(ILogger logger, int count);

        [LoggerMessage(6, LogLevel.Error, "tool {Tool} failed; the model was told sandbox_error")]
        public static partial void ToolFailed(ILogger logger, string tool, Exception exception);

        [LoggerMessage(7, LogLevel.Warning, "could not list languages; tools are described without them")]
        public static partial void LanguagesUnavailable(ILogger logger, Exception exception);
    }
}
