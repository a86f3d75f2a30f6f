using Sandbox.Core.Limits;
using Sandbox.Core.Runs;

namespace Sandbox.Server.Http;

/// <summary>
/// The body of <c>POST /v1/runs</c>: a run request plus how to answer it. Every field is optional to the
/// parser so that a missing one is reported by name with the others, not as a bare parse failure.
/// </summary>
public sealed record RunRequestBody
{
    /// <summary>The language, such as <c>python</c> (see <c>GET /v1/languages</c>).</summary>
    public string? Language { get; init; }

    /// <summary>The program's source text.</summary>
    public string? Code { get; init; }

    /// <summary>Text given to the program on standard input.</summary>
    public string? Stdin { get; init; }

    /// <summary>Files written beside the program before it starts.</summary>
    public IReadOnlyList<InputFile>? Files { get; init; }

    /// <summary>A profile by name (see <c>GET /v1/profiles</c>); without it the language's default profile runs.</summary>
    public string? Profile { get; init; }

    /// <summary>Limits that tighten the profile's; never loosen them.</summary>
    public LimitOverrides? Limits { get; init; }

    /// <summary>The container runtime to ask for (<c>runsc</c> or <c>runc</c>), when the profile allows a choice.</summary>
    public string? Runtime { get; init; }

    /// <summary>The backend to ask for (<c>docker</c> or <c>wasm</c>), when the language has both.</summary>
    public string? Backend { get; init; }

    /// <summary>Why the caller runs this code, in its own words.</summary>
    public string? Purpose { get; init; }

    /// <summary>Answer 202 at once with the run id and a Location, instead of waiting for the result.</summary>
    public bool Async { get; init; }

    /// <summary>
    /// When waiting for the result (not <see cref="Async"/>): if the caller disconnects before the answer, cancel the
    /// run rather than let it finish for nobody. Off by default, so a dropped connection can still fetch or replay it.
    /// </summary>
    public bool CancelOnDisconnect { get; init; }

    /// <summary>Return the effective plan without running anything.</summary>
    public bool DryRun { get; init; }

    /// <summary>Also return stdout and stderr exactly as written, in base64.</summary>
    public bool RawOutput { get; init; }

    /// <summary>The core request, or every missing required field by name.</summary>
    public (RunRequest? Request, IReadOnlyList<FieldError> Errors) ToRunRequest()
    {
        var errors = new List<FieldError>();
        if (string.IsNullOrEmpty(Language))
        {
            errors.Add(new FieldError("language", "is required; GET /v1/languages lists the choices"));
        }

        if (Code is null)
        {
            errors.Add(new FieldError("code", "is required: the program's source text"));
        }

        // Checked here, before anything hashes or audits the request: a null entry or field is the caller's mistake, not a crash.
        for (var i = 0; i < (Files?.Count ?? 0); i++)
        {
            if (Files![i] is not { } file)
            {
                errors.Add(new FieldError($"files[{i}]", "is null; send an object such as {\"path\": \"data.txt\", \"content\": \"...\"}"));
                continue;
            }

            if (file.Path is null)
            {
                errors.Add(new FieldError($"files[{i}].path", "is null; send a relative path such as \"data.txt\""));
            }

            if (file.Content is null)
            {
                errors.Add(new FieldError($"files[{i}].content", "is null; send the file's text as a string (\"\" for an empty file)"));
            }
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        return (new RunRequest
        {
            Language = Language!,
            Code = Code!,
            Stdin = Stdin,
            Files = Files,
            Profile = Profile,
            Limits = Limits,
            Runtime = Runtime,
            Backend = Backend,
            Purpose = Purpose,
        }, []);
    }
}

/// <summary>The answer to a dry run: what would run, under which limits, and what would refuse it.</summary>
public sealed record DryRunView
{
    /// <summary>True when the request would be accepted and run now.</summary>
    public required bool WouldRun { get; init; }

    /// <summary>The profile that would run it.</summary>
    public string? Profile { get; init; }

    /// <summary>Where it would run: <c>docker</c> or <c>wasm</c>.</summary>
    public string? Backend { get; init; }

    /// <summary>The container image (Docker backend only).</summary>
    public string? Image { get; init; }

    /// <summary>The WebAssembly module's file name (WebAssembly backend only).</summary>
    public string? Module { get; init; }

    /// <summary>The container runtime (Docker backend only).</summary>
    public string? Runtime { get; init; }

    /// <summary>The effective limits: the profile's, tightened by the request.</summary>
    public ResourceLimits? Limits { get; init; }

    /// <summary>SHA-256 of the seccomp profile sent with every container (Docker backend only).</summary>
    public string? SeccompProfileSha256 { get; init; }

    /// <summary>Problems with the request itself, each naming its field.</summary>
    public IReadOnlyList<FieldError> Errors { get; init; } = [];

    /// <summary>Reasons outside the request that would stop it now (a backend down, an image missing, the queue full).</summary>
    public IReadOnlyList<string> Refusals { get; init; } = [];
}
