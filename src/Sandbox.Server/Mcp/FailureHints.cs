using System.Globalization;
using System.Text;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Mcp;

/// <summary>
/// The one sentence or three a model needs after a failed run: what happened, in numbers, and what it can do
/// next (change the code, ask for a larger limit or another profile, try later). Every message that came from
/// the sandbox passes <see cref="MessageScrubber"/> on the way.
/// </summary>
internal static class FailureHints
{
    /// <summary>The hint for a completed run that did not end <c>ok</c>; null for <c>ok</c>.</summary>
    public static string? For(RunResult result, LanguageCatalog catalog, string? requestedLanguage = null) => result.Status switch
    {
        RunStatus.Ok => null,
        RunStatus.RuntimeError => RuntimeError(result),
        RunStatus.CompileError =>
            "compile_error: the program did not compile, so nothing ran. The compiler's messages are in stderr; fix them and run again.",
        RunStatus.Timeout => LimitKill(result, catalog, LimitNames.WallTimeMs,
            "Make the program finish sooner: look for endless loops, sleeps, and reads of stdin it never gets (stdin is empty unless you pass it)."),
        RunStatus.CpuLimit => LimitKill(result, catalog, LimitNames.CpuTimeMs,
            "Do less work per run: a faster algorithm, smaller inputs, or fewer threads."),
        RunStatus.MemoryLimit => LimitKill(result, catalog, LimitNames.MemoryBytes,
            "Use less memory: process data in chunks or streams, use smaller types, free what you no longer need."),
        RunStatus.OutputLimit => LimitKill(result, catalog, LimitNames.StdoutBytes,
            "Print less: summaries, counts, or the first and last lines instead of everything; the output shown was cut."),
        RunStatus.Rejected => Rejected(result.Errors, result.Message, catalog, requestedLanguage ?? result.Language),
        RunStatus.SandboxError =>
            $"sandbox_error: the sandbox itself failed, not your program ({Reason(result.Message, "no reason given")}). " +
            "Do not change the code for this; try again later, and tell the user if it keeps happening.",
        RunStatus.Cancelled =>
            "cancelled: the run was stopped before it finished (a caller cancelled it or the service shut down). Run it again if you still need the result.",
        _ => $"{result.Status.ToWireName()}: {Reason(result.Message, "the run did not succeed")}",
    };

    /// <summary>The hint for a call the gateway refused (invalid input, a full queue, an unknown run).</summary>
    public static string For(ApiProblem problem, LanguageCatalog catalog, string? requestedLanguage = null)
    {
        if (problem.Errors is { Count: > 0 } errors && problem.Status is 400 or 413 or 422)
        {
            return Rejected(errors, problem.Detail, catalog, requestedLanguage);
        }

        var detail = Reason(problem.Detail, problem.Title);
        return problem.Status switch
        {
            429 or 503 => $"{problem.Code}: the sandbox is busy or unavailable, nothing ran ({detail}). " +
                (problem.RetryAfterSeconds is { } seconds
                    ? string.Create(CultureInfo.InvariantCulture, $"Try again in {seconds} s.")
                    : "Try again in a few seconds."),
            404 => $"{problem.Code}: {detail}. Check the run id (it looks like run_0123…); results are kept only for a while.",
            413 => $"{problem.Code}: the request is too large, nothing ran ({detail}). Send less code, stdin or files.",
            >= 400 and < 500 => $"{problem.Code}: the request was refused, nothing ran ({detail}). Fix it and call again.",
            _ => $"{problem.Code}: the sandbox service failed, not your program ({detail}). Try again later.",
        };
    }

    private static string RuntimeError(RunResult result)
    {
        var how = result.Signal is { } signal
            ? string.Create(CultureInfo.InvariantCulture, $"was killed by signal {signal}{SignalName(signal)}")
            : result.ExitCode is { } code
                ? string.Create(CultureInfo.InvariantCulture, $"exited with code {code}")
                : "failed";
        // A missing package (RunPipeline's MissingPackage message): say that nothing can be installed, and what is there.
        return result.Hint is { Length: > 0 } missing
            ? $"runtime_error: the program {how}: {MessageScrubber.Scrub(missing)} Change the code to do without it and run again."
            : $"runtime_error: the program {how}. Read stderr for the cause, fix the code and run again.";
    }

    private static string SignalName(int signal) => signal switch
    {
        6 => " (SIGABRT, an abort or failed assertion)",
        8 => " (SIGFPE, an arithmetic error such as division by zero)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV, an invalid memory access)",
        _ => "",
    };

    /// <summary>"{status}: used X of Y; {how far it can be raised}. {what to change}".</summary>
    private static string LimitKill(RunResult result, LanguageCatalog catalog, string expectedLimit, string advice)
    {
        var status = result.Status.ToWireName();
        var limit = result.LimitBreach?.Limit ?? expectedLimit;
        var value = result.LimitBreach?.Value ?? LimitValue(result.Limits, limit);
        var observed = result.LimitBreach?.Observed ?? Observed(result.Usage, limit);
        var title = UnitFormat.LimitTitle(limit);

        var text = new StringBuilder(status).Append(": ");
        if (value is null)
        {
            text.Append(CultureInfo.InvariantCulture, $"exceeded its {title} limit");
        }
        else if (observed is > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"used {UnitFormat.Limit(limit, observed.Value)} of {UnitFormat.Limit(limit, value.Value)} {title}");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"ran past the {title} limit of {UnitFormat.Limit(limit, value.Value)}");
        }

        if (value is not null)
        {
            text.Append("; ").Append(Headroom(catalog, result.Language, result.Profile, limit, value.Value));
        }

        return text.Append(". ").Append(advice).ToString();
    }

    /// <summary>How far a limit can go: the profile's own ceiling, another profile's, or nowhere.</summary>
    private static string Headroom(LanguageCatalog catalog, string? language, string? profile, string limit, long effective)
    {
        var field = "limits." + limit;
        if (catalog.ProfileLimit(profile, limit) is { } ceiling && ceiling > effective)
        {
            return $"the profile allows up to {UnitFormat.Limit(limit, ceiling)}: raise {field} or leave it out";
        }

        if (catalog.Largest(language, limit) is { } largest && largest.Value > effective)
        {
            return $"the profile '{largest.Profile}' allows up to {UnitFormat.Limit(limit, largest.Value)}: pass profile \"{largest.Profile}\"";
        }

        return catalog.ProfileLimit(profile, limit) is not null || catalog.Largest(language, limit) is not null
            ? $"that is the most any {language} profile allows"
            : "no larger limit is known here";
    }

    private static string Rejected(IReadOnlyList<FieldError>? errors, string? message, LanguageCatalog catalog, string? language)
    {
        var text = new StringBuilder("rejected: ");
        // A language the catalog has is available, whatever else was wrong with the field (given twice, say).
        var languageError = (errors?.Any(e => e.Field == "language") == true && (language is null || catalog.Find(language) is null))
            || (errors is null or { Count: 0 } && language is not null && catalog.Languages.Count > 0 && catalog.Find(language) is null);
        if (languageError)
        {
            text.Append(CultureInfo.InvariantCulture, $"language '{MessageScrubber.Scrub(language)}' is not available; choose one of {string.Join(", ", catalog.LanguageNames)}. ");
        }

        text.Append("Nothing ran.");
        if (errors is { Count: > 0 })
        {
            // The language error was said first, with the choices; the rest follow one per line.
            foreach (var error in errors.Where(e => !(languageError && e.Field == "language")))
            {
                text.Append('\n').Append("- ").Append(MessageScrubber.Scrub(error.Field)).Append(": ").Append(MessageScrubber.Scrub(error.Message));
                if (error.Field == "profile" && catalog.Find(language) is { } view)
                {
                    text.Append(CultureInfo.InvariantCulture, $" (profiles for {view.Language}: {string.Join(", ", view.Profiles)})");
                }
            }
        }
        else if (!languageError)
        {
            text.Append(' ').Append(Reason(message, "the request was not accepted")).Append('.');
        }

        return text.Append("\nFix the request and call run_code again.").ToString();
    }

    private static long? LimitValue(ResourceLimits? limits, string limit) =>
        limits?.Enumerate().Where(l => l.Name == limit).Select(l => (long?)l.Value).FirstOrDefault();

    private static long? Observed(ResourceUsage usage, string limit) => limit switch
    {
        LimitNames.WallTimeMs => usage.WallMs,
        LimitNames.CpuTimeMs => usage.CpuMs,
        LimitNames.MemoryBytes => usage.PeakMemoryBytes,
        LimitNames.StdoutBytes or LimitNames.StderrBytes => usage.OutputBytes,
        _ => null,
    };

    private static string Reason(string? message, string fallback) =>
        MessageScrubber.Scrub(message) is { Length: > 0 } scrubbed ? scrubbed.TrimEnd('.') : fallback;
}
