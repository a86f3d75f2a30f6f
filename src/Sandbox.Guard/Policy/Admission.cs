using Sandbox.Core.Execution;
using Sandbox.Core.Runs;
using Sandbox.Guard.Approvals;

namespace Sandbox.Guard.Policy;

public enum AdmissionKind
{
    /// <summary>Run it: <see cref="Admission.Plan"/> is the effective plan (possibly tightened to the remaining CPU budget).</summary>
    Allowed,

    /// <summary>Not allowed (403): nothing runs.</summary>
    Rejected,

    /// <summary>Over a cap (429): try again after <see cref="Admission.RetryAfterSeconds"/>.</summary>
    Throttled,

    /// <summary>Waits for a human: <see cref="Admission.Approval"/> says which approval.</summary>
    Pending,
}

/// <summary>The guard's decision on one run request; it has already been written to the audit log.</summary>
public sealed record Admission
{
    public required AdmissionKind Kind { get; init; }

    public RunPlan? Plan { get; init; }

    /// <summary>A stable code: <c>profile_not_allowed</c>, <c>cap_exceeded</c>, <c>approval_required</c>.</summary>
    public string? Code { get; init; }

    /// <summary>Why, in words that say what to do.</summary>
    public string? Reason { get; init; }

    public IReadOnlyList<FieldError>? Errors { get; init; }

    /// <summary>For <see cref="AdmissionKind.Throttled"/>: which cap (see <see cref="CapNames"/>).</summary>
    public string? Cap { get; init; }

    public int? RetryAfterSeconds { get; init; }

    public Approval? Approval { get; init; }
}
