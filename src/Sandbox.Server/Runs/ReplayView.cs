namespace Sandbox.Server.Runs;

/// <summary>The answer to a replay: the original run and its replay side by side, and how they differ.</summary>
public sealed record ReplayView
{
    /// <summary>The replayed run's id.</summary>
    public required string Original { get; init; }

    /// <summary>The new run's id; its receipt names the original in <c>replayOf</c>.</summary>
    public required string Replay { get; init; }

    /// <summary>The digest both ran on: the image's content id (Docker) or the module's SHA-256 (WebAssembly); null when none was recorded.</summary>
    public string? ArtifactDigest { get; init; }

    /// <summary>True when status, exit code, stdout and stderr are all the same.</summary>
    public required bool Identical { get; init; }

    /// <summary>Each field that differs (<c>status</c>, <c>exitCode</c>, <c>stdout</c>, <c>stderr</c>) and how.</summary>
    public required IReadOnlyList<ReplayDifference> Differences { get; init; }

    /// <summary>The original run as its agent sees it.</summary>
    public required RunView OriginalRun { get; init; }

    /// <summary>The replay as it completed.</summary>
    public required RunView ReplayRun { get; init; }
}

/// <summary>One field that differs between a run and its replay.</summary>
public sealed record ReplayDifference
{
    /// <summary><c>status</c>, <c>exitCode</c>, <c>stdout</c> or <c>stderr</c>.</summary>
    public required string Field { get; init; }

    /// <summary>The original's value (for stdout and stderr, null: see <see cref="Diff"/>).</summary>
    public string? Original { get; init; }

    /// <summary>The replay's value (for stdout and stderr, null: see <see cref="Diff"/>).</summary>
    public string? Replay { get; init; }

    /// <summary>For stdout and stderr, a compact line diff: <c>-</c> lines are the original's, <c>+</c> lines the replay's.</summary>
    public IReadOnlyList<string>? Diff { get; init; }
}
