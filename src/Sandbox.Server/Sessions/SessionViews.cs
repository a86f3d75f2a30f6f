using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Sessions;

/// <summary>A session as callers see it.</summary>
public sealed record SessionView
{
    /// <summary>The session's id (<c>ses_…</c>).</summary>
    public required string Id { get; init; }

    /// <summary><c>open</c> or <c>closed</c>.</summary>
    public required string State { get; init; }

    /// <summary>The language its interpreter runs.</summary>
    public required string Language { get; init; }

    /// <summary>The profile every cell runs under.</summary>
    public required string Profile { get; init; }

    /// <summary>The container runtime of its sandbox.</summary>
    public required string Runtime { get; init; }

    /// <summary>When it opened.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When its last cell ended (or when it opened).</summary>
    public required DateTimeOffset LastUsedAt { get; init; }

    /// <summary>When it closes if no cell comes (the idle timeout from the last cell).</summary>
    public DateTimeOffset? IdleExpiresAt { get; init; }

    /// <summary>When it closes whatever it is doing (its maximum lifetime).</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>True while a cell is queued or running in it (another one sent now is <c>409 session_busy</c>).</summary>
    public bool Busy { get; init; }

    /// <summary>Cells run so far.</summary>
    public required int Cells { get; init; }

    /// <summary>How many times a fresh interpreter replaced one a cell ended (its state was lost each time).</summary>
    public required int Restarts { get; init; }

    /// <summary>The limits each cell runs under unless it asks for tighter wall, CPU or output limits.</summary>
    public required ResourceLimits Limits { get; init; }

    /// <summary>When it closed; null while open.</summary>
    public DateTimeOffset? ClosedAt { get; init; }

    /// <summary>Why it closed (DELETE, idle, lifetime, revocation, shutdown).</summary>
    public string? ClosedReason { get; init; }
}

/// <summary>The answer to a cell: the run (as <c>POST /v1/runs</c> answers it) and what the cell did to its session.</summary>
public sealed record SessionCellView
{
    /// <summary>The cell's run id: <c>GET /v1/runs/{id}</c> finds it like any run.</summary>
    public required string Id { get; init; }

    /// <summary>The run's state: <c>completed</c>, or <c>pending_approval</c> when its agent is under approval.</summary>
    public required string State { get; init; }

    /// <summary>When the cell was admitted.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it started running.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When it completed.</summary>
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Milliseconds the cell waited for a slot.</summary>
    public long? QueueMs { get; init; }

    /// <summary>Milliseconds the cell ran.</summary>
    public long? RunMs { get; init; }

    /// <summary>The result, exactly as a run's.</summary>
    public RunResult? Result { get; init; }

    /// <summary>The exact output bytes in base64, when <c>rawOutput</c> was asked for.</summary>
    public RawOutput? Raw { get; init; }

    /// <summary>What the cell did to its session.</summary>
    public required SessionCellInfo Session { get; init; }
}

/// <summary>The session's side of one cell.</summary>
public sealed record SessionCellInfo
{
    /// <summary>The session's id.</summary>
    public required string Id { get; init; }

    /// <summary>True when this cell ended the interpreter (a limit, a crash): variables, imports and files are gone.</summary>
    public required bool StateLost { get; init; }

    /// <summary><c>session_restarted</c> when this cell ran in a fresh interpreter because the previous one was ended.</summary>
    public required IReadOnlyList<string> Notes { get; init; }
}

/// <summary>The body of <c>POST /v1/sessions</c>.</summary>
public sealed record SessionRequestBody
{
    /// <summary>The language, as for a run (only languages with a session kernel: python, javascript, bash).</summary>
    public required string Language { get; init; }

    /// <summary>A Docker profile of that language; the language's default when left out.</summary>
    public string? Profile { get; init; }

    /// <summary>A container runtime at least as strong as the profile's.</summary>
    public string? Runtime { get; init; }

    /// <summary>One sentence on why (optional), as for a run.</summary>
    public string? Purpose { get; init; }
}
