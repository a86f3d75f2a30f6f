using Sandbox.Core.Runs;

namespace Sandbox.Server.Mcp;

/// <summary>
/// An RFC 9457 problem details body as the Sandbox HTTP API sends it: the standard members plus the
/// extension members <c>code</c> and <c>errors</c>. Read leniently: every member may be missing.
/// </summary>
internal sealed record ProblemDocument
{
    public string? Type { get; init; }

    public string? Title { get; init; }

    public int? Status { get; init; }

    public string? Detail { get; init; }

    public string? Instance { get; init; }

    /// <summary>A short, stable code such as <c>queue_full</c>.</summary>
    public string? Code { get; init; }

    public IReadOnlyList<FieldError>? Errors { get; init; }
}
