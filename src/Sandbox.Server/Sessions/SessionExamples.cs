using System.Text.Json;
using System.Text.Json.Nodes;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;

namespace Sandbox.Server.Sessions;

/// <summary>The OpenAPI examples of the session operations, serialized with the sessions' own JSON context.</summary>
internal static class SessionExamples
{
    private static readonly DateTimeOffset s_at = new(2026, 1, 5, 10, 0, 0, TimeSpan.Zero);

    private static readonly ResourceLimits s_limits = new()
    {
        WallTimeMs = 10_000, CpuTimeMs = 5_000, MemoryBytes = 256 << 20, Pids = 64, StdoutBytes = 1 << 20, StderrBytes = 1 << 20, FileSizeBytes = 16 << 20, TmpBytes = 64 << 20,
    };

    private static readonly SessionView s_session = new()
    {
        Id = "ses_01jcz8q4n2", State = "open", Language = "python", Profile = "python", Runtime = "crun", CreatedAt = s_at, LastUsedAt = s_at.AddSeconds(30),
        IdleExpiresAt = s_at.AddMinutes(10).AddSeconds(30), ExpiresAt = s_at.AddHours(1), Cells = 2, Restarts = 0, Limits = s_limits,
    };

    /// <summary>The request and the answer of <paramref name="operationId"/> when it is a session operation; null otherwise.</summary>
    public static (string? Request, string Status, JsonNode? Response)? For(string operationId) => operationId switch
    {
        "OpenSession" => ("""{"language":"python","purpose":"explore the uploaded CSV"}""", "201", Json(s_session with { Cells = 0, LastUsedAt = s_at })),
        "GetSession" => (null, "200", Json(s_session)),
        "CloseSession" => (null, "200", Json(s_session with { State = "closed", IdleExpiresAt = null, ClosedAt = s_at.AddMinutes(1), ClosedReason = "closed by DELETE /v1/sessions/ses_01jcz8q4n2" })),
        "RunCell" => ("""{"language":"python","code":"x + 1"}""", "200", JsonSerializer.SerializeToNode(new SessionCellView
        {
            Id = "run_01jcz8k2v6", State = "completed", CreatedAt = s_at, StartedAt = s_at, CompletedAt = s_at.AddMilliseconds(4), QueueMs = 0, RunMs = 4,
            Result = new RunResult
            {
                RunId = "run_01jcz8k2v6", Status = RunStatus.Ok, ExitCode = 0, Stdout = "42\n",
                Usage = new ResourceUsage { WallMs = 3, CpuMs = 1, PeakMemoryBytes = 14 << 20, OutputBytes = 3 }, Limits = s_limits,
                Language = "python", Backend = "docker", Profile = "python", Runtime = "crun",
            },
            Session = new SessionCellInfo { Id = "ses_01jcz8q4n2", StateLost = false, Notes = [] },
        }, SessionJsonContext.Default.SessionCellView)),
        _ => null,
    };

    private static JsonNode? Json(SessionView view) => JsonSerializer.SerializeToNode(view, SessionJsonContext.Default.SessionView);
}
