using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Server.Http;

namespace Sandbox.Server.Sessions;

/// <summary>
/// What a cell may not ask of its session, each refusal naming the field: a cell is a run request, but it runs in a sandbox
/// that already exists, so its language, profile, runtime and backend are the session's, and so are the limits the container
/// itself enforces (memory, pids, /tmp, file size). Wall, CPU and output are the cell's own and may be tightened as for a run.
/// </summary>
internal static class SessionCells
{
    public static IReadOnlyList<FieldError> Check(RunRequest request, RunRequestBody.Answer answer, RunPlan session)
    {
        var errors = new List<FieldError>();
        var profile = session.Profile;
        if (request.Language != profile.Language)
        {
            errors.Add(new FieldError("language", $"must be '{profile.Language}', the session's language"));
        }

        Same("profile", request.Profile, profile.Name);
        Same("runtime", request.Runtime, session.Runtime);
        Same("backend", request.Backend, profile.Backend);
        if (request.Limits is { } limits)
        {
            Fixed(LimitNames.MemoryBytes, limits.MemoryBytes);
            Fixed(LimitNames.Pids, limits.Pids);
            Fixed(LimitNames.TmpBytes, limits.TmpBytes);
            Fixed(LimitNames.FileSizeBytes, limits.FileSizeBytes);
        }

        if (answer.Async)
        {
            errors.Add(new FieldError("async", "is not taken for a cell: the answer is waited for, and the next cell can only start after it"));
        }

        if (answer.DryRun)
        {
            errors.Add(new FieldError("dryRun", "is not taken for a cell; GET /v1/sessions/{id} shows the session's profile and limits"));
        }

        if (answer.CancelOnDisconnect)
        {
            errors.Add(new FieldError("cancelOnDisconnect", "is not taken for a cell yet; DELETE /v1/sessions/{id} ends a cell that must stop"));
        }

        return errors;

        void Same(string field, string? asked, string actual)
        {
            if (asked is not null && asked != actual)
            {
                errors.Add(new FieldError(field, $"must be left out or '{actual}', the session's; open another session for another {field}"));
            }
        }

        void Fixed(string name, long? value)
        {
            if (value is not null)
            {
                errors.Add(new FieldError("limits." + name, "is fixed for the session's container when it opens; leave it out (a cell may tighten wallTimeMs, cpuTimeMs, stdoutBytes and stderrBytes)"));
            }
        }
    }
}
