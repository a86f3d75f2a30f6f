using System.Text.Json.Serialization;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;

namespace Sandbox.Server.Http;

/// <summary>
/// The body of <c>POST /v1/runs</c>: a run request plus how to answer it. Every field is checked by name, all at once:
/// a missing or mistyped one is reported with the others, not as a bare parse failure.
/// </summary>
// The fields are RunRequest's own (one definition); the body is read by RunRequestReader, never bound by the
// serializer, and this type describes it to the OpenAPI document. The options come after the request's fields there.
public sealed record RunRequestBody : RunRequest
{
    /// <summary>The fields this body adds to the run request, for <see cref="RunRequestReader"/>.</summary>
    internal static readonly string[] Options = [Wire(nameof(Async)), Wire(nameof(CancelOnDisconnect)), Wire(nameof(DryRun)), Wire(nameof(RawOutput))];

    /// <summary>Answer 202 at once with the run id and a Location, instead of waiting for the result.</summary>
    [JsonPropertyOrder(1)]
    public bool Async { get; init; }

    /// <summary>
    /// When waiting for the result (not <c>async</c>): if the caller disconnects before the answer, cancel the run
    /// rather than let it finish for nobody. Off by default, so a dropped connection can still fetch or replay it.
    /// </summary>
    [JsonPropertyOrder(1)]
    public bool CancelOnDisconnect { get; init; }

    /// <summary>Return the effective plan without running anything.</summary>
    [JsonPropertyOrder(1)]
    public bool DryRun { get; init; }

    /// <summary>Also return stdout and stderr exactly as written, in base64.</summary>
    [JsonPropertyOrder(1)]
    public bool RawOutput { get; init; }

    /// <summary>The answer options a caller set, from what <see cref="RunRequestReader"/> read.</summary>
    internal static Answer AnswerOptions(RunRequestReading reading) => new(
        reading.Options.Contains(Wire(nameof(Async))),
        reading.Options.Contains(Wire(nameof(CancelOnDisconnect))),
        reading.Options.Contains(Wire(nameof(DryRun))),
        reading.Options.Contains(Wire(nameof(RawOutput))));

    private static string Wire(string name) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(name);

    /// <summary>How to answer one request: the options above, as read.</summary>
    internal readonly record struct Answer(bool Async, bool CancelOnDisconnect, bool DryRun, bool RawOutput);
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

    /// <summary>
    /// Docker backend with a warm pool only: true when a warm container of exactly this run's spec is idle now (the run
    /// would start warm), false when it would start cold (none idle, or the limits differ from the pool's); null otherwise.
    /// </summary>
    public bool? WarmContainer { get; init; }

    /// <summary>Problems with the request itself, each naming its field.</summary>
    public IReadOnlyList<FieldError> Errors { get; init; } = [];

    /// <summary>Reasons outside the request that would stop it now (a backend down, an image missing, the queue full).</summary>
    public IReadOnlyList<string> Refusals { get; init; } = [];
}
