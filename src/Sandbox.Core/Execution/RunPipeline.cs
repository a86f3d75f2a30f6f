using Microsoft.Extensions.Logging;
using Sandbox.Core.Errors;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;

namespace Sandbox.Core.Execution;

/// <summary>
/// The one path every run takes, whatever the front end: validate, plan, pick the backend, execute,
/// and turn infrastructure failures into <c>sandbox_error</c> results.
/// </summary>
public sealed partial class RunPipeline
{
    private readonly ProfileSet _profiles;
    private readonly Dictionary<string, IExecutionBackend> _backends;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    // Written at start-up (a failed ping) and read by runs; a concurrent set because front ends may run in parallel.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _unavailable = new(StringComparer.Ordinal);

    public RunPipeline(ProfileSet profiles, IEnumerable<IExecutionBackend> backends, TimeProvider time, ILogger<RunPipeline> logger)
    {
        _profiles = profiles;
        _backends = backends.ToDictionary(b => b.Name, StringComparer.Ordinal);
        _time = time;
        _logger = logger;
        if (CheckProfiles() is { Count: > 0 } errors)
        {
            // A profile its backend cannot start a run under would fail every run; start-up stops instead.
            throw new ProfileConfigurationException(errors);
        }
    }

    public ProfileSet Profiles => _profiles;

    /// <summary>Backends found unreachable (such as Docker when its ping fails at start-up).</summary>
    public IReadOnlySet<string> UnavailableBackends => _unavailable.Keys.ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Marks a backend as unreachable: requests whose default profile uses it then fall back to the
    /// language's <c>-wasm</c> profile when one exists (see <see cref="BackendSelector.Fallback"/>); otherwise they stay <c>sandbox_error</c>.
    /// </summary>
    public void MarkUnavailable(string backend) => _unavailable[backend] = true;

    /// <summary>Undoes <see cref="MarkUnavailable"/> once the backend answers again; returns whether it had been marked.</summary>
    public bool MarkAvailable(string backend) => _unavailable.TryRemove(backend, out _);

    /// <summary>A new, time-ordered run id.</summary>
    public string NewRunId() => "run_" + Guid.CreateVersion7(_time.GetUtcNow()).ToString("N");

    /// <summary>Validates and plans without running: the plan, or the errors that would reject the run.</summary>
    public (RunPlan? Plan, IReadOnlyList<FieldError> Errors) Plan(RunRequest request, string? runId = null) =>
        RunRequestValidator.Plan(request, _profiles, runId ?? NewRunId(), MinimumsFor);

    /// <summary>What the backend of <paramref name="profile"/> needs of a run's limits (none when the backend is not loaded).</summary>
    public BackendMinimums MinimumsFor(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return _backends.TryGetValue(profile.Backend, out var backend) ? backend.MinimumsFor(profile) : BackendMinimums.None;
    }

    /// <summary>Every profile's limits (and its compile step's) against what its backend needs, each error naming the field and range.</summary>
    private List<FieldError> CheckProfiles()
    {
        var errors = new List<FieldError>();
        foreach (var profile in _profiles.All)
        {
            var minimums = MinimumsFor(profile);
            var at = $"profiles.{profile.Name}";
            Check($"{at}.limits", profile.Limits);
            if (profile.Compile is { } compile)
            {
                Check($"{at}.compile.limits", compile.Limits);
            }

            void Check(string field, ResourceLimits limits)
            {
                Least($"{field}.{LimitNames.MemoryBytes}", limits.MemoryBytes, minimums.MemoryBytes, minimums.MemoryReason);
                Least($"{field}.{LimitNames.FileSizeBytes}", limits.FileSizeBytes, minimums.FileSizeBytes, "the backend's minimum");
                Least($"{field}.{LimitNames.TmpBytes}", limits.TmpBytes, minimums.TmpBytes, "the backend's minimum");
            }
        }

        return errors;

        void Least(string field, long value, long least, string why)
        {
            if (value < least)
            {
                errors.Add(new FieldError(field, $"is {value}; it must be at least {least} ({why})"));
            }
        }
    }

    public async Task<RunResult> RunAsync(RunRequest request, CancellationToken cancellationToken)
    {
        var runId = NewRunId();
        var (plan, errors) = PlanForRun(request, runId);
        if (plan is null)
        {
            return RunResult.Rejected(runId, errors, request.Language);
        }

        return await ExecuteAsync(plan, cancellationToken);
    }

    /// <summary>
    /// The plan a run will actually execute: validated, and moved to the language's <c>-wasm</c> profile
    /// when its backend is unreachable and the caller may use that profile (<paramref name="mayUse"/>, its allow-list;
    /// null for the operator's own CLI). Front ends that queue runs plan with this, then execute later.
    /// </summary>
    public (RunPlan? Plan, IReadOnlyList<FieldError> Errors) PlanForRun(RunRequest request, string runId, Func<string, bool>? mayUse = null)
    {
        var (plan, errors) = Plan(request, runId);
        if (plan is null)
        {
            Log.Rejected(_logger, runId, errors.Count);
            return (null, errors);
        }

        if (BackendSelector.Fallback(plan, _profiles, UnavailableBackends, MinimumsFor, mayUse) is { } fallback)
        {
            Log.FellBack(_logger, runId, plan.Backend, fallback.Profile.Name);
            plan = fallback;
        }
        else if (UnavailableBackends.Contains(plan.Backend))
        {
            Log.NoFallback(_logger, runId, plan.Backend, plan.Profile.Name);
        }

        return (plan, []);
    }

    /// <summary>
    /// The plan pinned to what will run it (<see cref="RunPlan.ArtifactDigest"/>), before its receipt is written: the run then
    /// executes exactly the image or module its receipt names, even if the tag moves meanwhile.
    /// </summary>
    public async Task<RunPlan> PinAsync(RunPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return _backends.TryGetValue(plan.Backend, out var backend)
            ? plan with { ArtifactDigest = await backend.DigestAsync(plan with { ArtifactDigest = null }, cancellationToken) }
            : plan;
    }

    /// <summary>Whether the plan's pinned digest is still present on this host (null: it is not; the backend's answer otherwise).</summary>
    public async Task<string?> FindDigestAsync(RunPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return _backends.TryGetValue(plan.Backend, out var backend) ? await backend.DigestAsync(plan, cancellationToken) : null;
    }

    /// <summary>Executes an already-validated plan on the backend its profile names.</summary>
    public async Task<RunResult> ExecuteAsync(RunPlan plan, CancellationToken cancellationToken)
    {
        RunResult result;
        if (!_backends.TryGetValue(plan.Backend, out var backend))
        {
            result = RunResult.SandboxError(plan.RunId, $"the '{plan.Backend}' backend is not available on this host; run 'sandbox doctor' to see why");
        }
        else
        {
            Log.Starting(_logger, plan.RunId, plan.Profile.Name, plan.Backend, plan.Runtime);
            try
            {
                result = plan.Session is { } session ? await session.ExecuteAsync(plan, cancellationToken) : await backend.ExecuteAsync(plan, cancellationToken);
            }
            catch (SandboxInfrastructureException ex)
            {
                Log.InfrastructureFailed(_logger, plan.RunId, ex);
                // The exception's own message (daemon text, image names, hints for the operator) stays in the log.
                result = RunResult.SandboxError(plan.RunId, ex.ResultMessage);
            }
        }

        result = result with
        {
            RunId = plan.RunId,
            Language = plan.Request.Language,
            Profile = plan.Profile.Name,
            Backend = plan.Backend,
            Runtime = result.Runtime ?? plan.Runtime,
            Limits = plan.Limits,
        };
        if (result.Status == RunStatus.RuntimeError && MissingPackage.Message(plan.Request.Language, result.Stderr, plan.Profile.Packages) is { } missing)
        {
            result = result with { Hint = missing };
        }

        Log.Finished(_logger, plan.RunId, result.Status.ToWireName(), result.Usage.WallMs);
        return result;
    }

    private static partial class Log
    {
        // Debug: the service logs the refusals it records (at most so many an agent a minute), and a caller can send invalid
        // requests as fast as it likes; the CLI prints the errors themselves.
        [LoggerMessage(1, LogLevel.Debug, "Run {RunId} rejected with {ErrorCount} error(s)")]
        public static partial void Rejected(ILogger logger, string runId, int errorCount);

        [LoggerMessage(2, LogLevel.Information, "Run {RunId} starting: profile {Profile}, backend {Backend}, runtime {Runtime}")]
        public static partial void Starting(ILogger logger, string runId, string profile, string backend, string runtime);

        [LoggerMessage(3, LogLevel.Information, "Run {RunId} finished: {Status} in {WallMs} ms")]
        public static partial void Finished(ILogger logger, string runId, string status, long wallMs);

        [LoggerMessage(4, LogLevel.Error, "Run {RunId} failed in the sandbox's own infrastructure")]
        public static partial void InfrastructureFailed(ILogger logger, string runId, Exception exception);

        [LoggerMessage(5, LogLevel.Warning, "Run {RunId}: the {Backend} backend is unreachable; falling back to profile {Profile}")]
        public static partial void FellBack(ILogger logger, string runId, string backend, string profile);

        [LoggerMessage(6, LogLevel.Warning, "Run {RunId}: the {Backend} backend is unreachable and no fallback the caller may use exists; profile {Profile} stays on it")]
        public static partial void NoFallback(ILogger logger, string runId, string backend, string profile);
    }
}
