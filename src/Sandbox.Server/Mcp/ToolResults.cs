using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ModelContextProtocol.Protocol;
using Sandbox.Core.Runs;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Mcp;

/// <summary>
/// Turns what the gateway answered into tool results: structured content for programs, readable text for
/// the model. Anything but a completed <c>ok</c> run (or one still in progress) is <c>isError</c> with a hint,
/// as the MCP spec asks for errors the model can correct. Nothing here carries a stack trace, and every
/// message of ours is scrubbed of host paths and container ids.
/// </summary>
internal static class ToolResults
{
    public static CallToolResult FromGateway(GatewayResult answer, LanguageCatalog catalog, string? requestedLanguage = null) =>
        answer.Run is { } run ? FromRun(run, catalog, requestedLanguage)
        : answer.Problem is { } problem ? FromProblem(problem, catalog, requestedLanguage)
        : InternalError();

    public static CallToolResult FromRun(RunView run, LanguageCatalog catalog, string? requestedLanguage = null)
    {
        if (run.Result is not { } result)
        {
            // Still queued or running (get_run on a run in progress): not an error, just not done.
            var pending = new RunToolOutput { RunId = run.Id, State = run.State, QueueMs = run.QueueMs, RunMs = run.RunMs, ApprovalId = run.Approval?.Id };
            var text = run.State == "pending_approval" && run.Approval is { } approval
                // Said plainly: a model that thinks the run is merely slow will retry it, and each retry is another request for a human.
                ? $"pending_approval: run {run.Id} is waiting for a human to approve it (approval {approval.Id}: {approval.Reason}). Nothing has run yet. Do not submit it again; tell the user it awaits approval, and call get_run with this runId later. It expires at {approval.ExpiresAt:u} if nobody decides."
                : $"{run.State}: run {run.Id} has not finished yet; call get_run with this runId again in a few seconds.";
            return Result(text, pending, isError: false);
        }

        var hint = FailureHints.For(result, catalog, requestedLanguage);
        var fence = NewFence(result.Stdout, result.Stderr);
        var output = new RunToolOutput
        {
            RunId = result.RunId,
            State = run.State,
            Status = result.Status.ToWireName(),
            ExitCode = result.ExitCode,
            Signal = result.Signal,
            Language = result.Language,
            Profile = result.Profile,
            Backend = result.Backend,
            Runtime = result.Runtime,
            Usage = result.Usage,
            Limits = result.Limits,
            LimitBreach = result.LimitBreach,
            QueueMs = run.QueueMs,
            RunMs = run.RunMs,
            Stdout = result.Stdout,
            Stderr = result.Stderr,
            StdoutTruncated = result.StdoutTruncated,
            StderrTruncated = result.StderrTruncated,
            Errors = Scrub(result.Errors),
            Hint = hint,
            OutputFence = fence,
            Artifacts = result.Artifacts,
            ArtifactsDropped = result.ArtifactsDropped,
        };
        return Result(RunText(run, result, hint, fence), output, isError: result.Status != RunStatus.Ok);
    }

    public static CallToolResult FromProblem(ApiProblem problem, LanguageCatalog catalog, string? requestedLanguage = null)
    {
        var hint = FailureHints.For(problem, catalog, requestedLanguage);
        var output = new RunToolOutput
        {
            // Every failure names a status, so a client can branch on one field: the service's own failures (5xx,
            // unreachable) are sandbox_error; every other refusal (invalid, not allowed, a cap, a full queue) is rejected.
            Status = (problem.Status >= 500 ? RunStatus.SandboxError : RunStatus.Rejected).ToWireName(),
            Errors = Scrub(problem.Errors),
            Problem = new ProblemOutput(problem.Status, problem.Code, MessageScrubber.Scrub(problem.Detail), problem.RetryAfterSeconds),
            Hint = hint,
        };
        return Result(hint, output, isError: true);
    }

    /// <summary>run_code's own argument errors, before anything reached the gateway.</summary>
    public static CallToolResult FromArgumentErrors(IReadOnlyList<FieldError> errors, LanguageCatalog catalog, string? requestedLanguage) =>
        FromProblem(ApiProblem.Invalid(errors), catalog, requestedLanguage);

    public static CallToolResult FromLanguages(LanguageCatalog catalog)
    {
        var text = new StringBuilder();
        foreach (var language in catalog.Languages)
        {
            text.Append(language.Language).Append(": default profile ").Append(language.DefaultProfile)
                .Append(" (").Append(language.Backend).Append("); ").Append(UnitFormat.Limits(language.Limits)).Append('.');
            if (language.Profiles.Count > 1)
            {
                text.Append(" Profiles: ").Append(string.Join(", ", language.Profiles)).Append('.');
            }

            if (!string.IsNullOrWhiteSpace(language.Description))
            {
                text.Append(' ').Append(MessageScrubber.Scrub(language.Description));
            }

            text.Append('\n');
        }

        if (catalog.Languages.Count == 0)
        {
            text.Append("No languages are available right now.");
        }

        var output = new LanguagesToolOutput(catalog.Languages);
        return new CallToolResult
        {
            Content = [new TextContentBlock { Text = text.ToString().TrimEnd() }],
            StructuredContent = JsonSerializer.SerializeToElement(output, McpJsonContext.Default.LanguagesToolOutput),
            IsError = false,
        };
    }

    /// <summary>For an unexpected failure inside the server: the details stay in the server's log.</summary>
    public static CallToolResult InternalError() => Result(
        "sandbox_error: the sandbox server failed internally, not your program. Do not change the code for this; " +
        "try again later, and tell the user if it keeps happening.",
        new RunToolOutput { Status = RunStatus.SandboxError.ToWireName() },
        isError: true);

    /// <summary>
    /// A marker for this result's fence lines: random (72 bits from a CSPRNG, drawn after the run ended, so
    /// the program cannot know it) and found in neither stream, so no line the program printed can pass for
    /// a fence. <paramref name="candidate"/> replaces the random draw in tests.
    /// </summary>
    internal static string NewFence(string stdout, string stderr, Func<string>? candidate = null)
    {
        candidate ??= static () => RandomNumberGenerator.GetString(FenceAlphabet, FenceLength);
        while (true)
        {
            var fence = candidate();
            if (!stdout.Contains(fence, StringComparison.Ordinal) && !stderr.Contains(fence, StringComparison.Ordinal))
            {
                return fence;
            }
        }
    }

    private const string FenceAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const int FenceLength = 14;

    /// <summary>
    /// A status line, the hint, then stdout and stderr, each between an opening and a closing fence line that
    /// name the stream and carry <paramref name="fence"/>. The status line comes first and the first fence
    /// line before any output, so both are ours; a fence line without this result's marker is the program's.
    /// </summary>
    private static string RunText(RunView run, RunResult result, string? hint, string fence)
    {
        var text = new StringBuilder(result.Status.ToWireName());
        if (result.ExitCode is { } code)
        {
            text.Append(CultureInfo.InvariantCulture, $" · exit code {code}");
        }

        if (result.Signal is { } signal)
        {
            text.Append(CultureInfo.InvariantCulture, $" · signal {signal}");
        }

        if (result.Language is { } language)
        {
            text.Append(" · ").Append(language);
            if (result.Profile is { } profile)
            {
                text.Append(" (profile ").Append(profile).Append(result.Backend is { } backend ? ", " + backend : "").Append(')');
            }
        }

        text.Append(" · run ").Append(result.RunId);
        var usage = result.Usage;
        if (result.Limits is not null || usage.WallMs > 0)
        {
            text.Append(" · wall ").Append(UnitFormat.Milliseconds(usage.WallMs))
                .Append(", CPU ").Append(UnitFormat.Milliseconds(usage.CpuMs))
                .Append(", memory ").Append(UnitFormat.Bytes(usage.PeakMemoryBytes));
        }

        if (run.QueueMs is { } queueMs)
        {
            text.Append(" · queued ").Append(UnitFormat.Milliseconds(queueMs));
        }

        text.Append('\n');
        if (hint is not null)
        {
            text.Append(hint).Append('\n');
        }

        if (result.Status is not (RunStatus.Rejected or RunStatus.CompileError) || result.Stdout.Length > 0 || result.Stderr.Length > 0)
        {
            AppendStream(text, "stdout", result.Stdout, result.StdoutTruncated, fence);
            AppendStream(text, "stderr", result.Stderr, result.StderrTruncated, fence);
        }

        AppendArtifacts(text, result, fence);
        return text.ToString().TrimEnd('\n');
    }

    /// <summary>The returned and dropped files, one line each; their names are the program's, so they sit inside a fence too.</summary>
    private static void AppendArtifacts(StringBuilder text, RunResult result, string fence)
    {
        if (result.Artifacts is not { Count: > 0 } && result.ArtifactsDropped is not { Count: > 0 })
        {
            return;
        }

        text.Append("--- artifacts from /tmp/outputs [").Append(fence).Append("] ---\n");
        foreach (var artifact in result.Artifacts ?? [])
        {
            text.Append(Core.Text.DisplayText.Escape(artifact.Path, keepNewlinesAndTabs: false)).Append(" (").Append(artifact.MediaType).Append(", ")
                .Append(UnitFormat.Bytes(artifact.SizeBytes)).Append(", sha256 ").Append(artifact.Sha256).Append(")\n");
        }

        foreach (var dropped in result.ArtifactsDropped ?? [])
        {
            text.Append("dropped ").Append(dropped.Path).Append(": ").Append(dropped.Reason).Append(", ").Append(dropped.Detail).Append('\n');
        }

        text.Append("--- end artifacts [").Append(fence).Append("] ---\n");
    }

    private static void AppendStream(StringBuilder text, string name, string content, bool truncated, string fence)
    {
        if (content.Length == 0)
        {
            text.Append("--- ").Append(name).Append(" [").Append(fence).Append("]: empty ---\n");
            return;
        }

        text.Append("--- ").Append(name).Append(" [").Append(fence).Append(']')
            .Append(truncated ? " (truncated: the head and tail are shown) ---\n" : " ---\n")
            .Append(content);
        if (!content.EndsWith('\n'))
        {
            text.Append('\n');
        }

        text.Append("--- end ").Append(name).Append(" [").Append(fence).Append("] ---\n");
    }

    private static List<FieldError>? Scrub(IReadOnlyList<FieldError>? errors) =>
        errors is null ? null : [.. errors.Select(e => new FieldError(MessageScrubber.Scrub(e.Field), MessageScrubber.Scrub(e.Message)))];

    private static CallToolResult Result(string text, RunToolOutput output, bool isError) => new()
    {
        Content = [new TextContentBlock { Text = text }],
        StructuredContent = JsonSerializer.SerializeToElement(output, McpJsonContext.Default.RunToolOutput),
        IsError = isError,
    };
}
