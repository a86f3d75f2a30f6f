namespace Sandbox.Guard.Store;

/// <summary>
/// A run as the store keeps it for the retention period: who ran it, under which idempotency key and request digest,
/// its state, and once completed its status and the caller's view (result and output within the caps) as JSON. The
/// service's in-memory entry is the live copy; this row is the record a restart reads back.
/// </summary>
public sealed record StoredRun
{
    public required string RunId { get; init; }

    public required string AgentId { get; init; }

    /// <summary>The key or task token that started it: a token sees only its own runs, after a restart too.</summary>
    public required string CredentialId { get; init; }

    /// <summary>The key as scoped by the service (agent, and token when a token used it); unique among stored runs.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>The digest of the request body the key was bound to: the same key with another body is refused.</summary>
    public string? RequestSha256 { get; init; }

    /// <summary>The effective plan in brief (language, profile, backend, runtime, limits) as JSON.</summary>
    public string? Plan { get; init; }

    /// <summary><c>pending_approval</c>, <c>queued</c>, <c>running</c> or <c>completed</c>.</summary>
    public required string State { get; init; }

    /// <summary>The final status once completed (a wire name, or <c>interrupted</c> when start-up reconciliation closed it).</summary>
    public string? Status { get; init; }

    /// <summary>Why a run was closed without a view (reconciliation's reason).</summary>
    public string? Reason { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>When the row is deleted: created plus the service's <c>ResultRetention</c>.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>The caller's view at completion as JSON, opaque to the store; null until then, and for reconciled runs.</summary>
    public string? View { get; init; }

    /// <summary>
    /// The run's inputs and receipted plan as JSON (see <c>run_inputs</c>), written with the row at admission so a replay
    /// re-executes exactly them; not read back by <see cref="IGuardStore.FindRunAsync"/> (see <see cref="IGuardStore.FindRunInputsAsync"/>).
    /// </summary>
    public string? Inputs { get; init; }

    /// <summary>The node that owns the run (see <see cref="INodeLeases"/>); null in a store one node uses, and for runs a CLI admitted.</summary>
    public string? OwnerNode { get; init; }

    /// <summary>The owner's fence when it took the run: an end is written only under it.</summary>
    public long? Fence { get; init; }

    /// <summary>
    /// Set on a run offered for any node to claim (see <see cref="IRunClaims"/>): what it needs (<see cref="RunNeeds"/>). Such
    /// a run is admitted with no owner; null for a run its admitting node keeps (and in a store one node uses).
    /// </summary>
    public string? Needs { get; init; }
}
