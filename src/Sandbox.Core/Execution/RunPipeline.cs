using Microsoft.Extensions.Logging;
using Sandbox.Core.Errors;
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
        RunRequestValidator.Plan(request, _profiles, runId ?? NewRunId());

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
    /// when its backend is unreachable. Front ends that queue runs plan with this, then execute later.
    /// </summary>
    public (RunPlan? Plan, IReadOnlyList<FieldError> Errors) PlanForRun(RunRequest request, string runId)
    {
        var (plan, errors) = Plan(request, runId);
        if (plan is null)
        {
            Log.Rejected(_logger, runId, errors.Count);
            return (null, errors);
        }

        if (BackendSelector.Fallback(plan, _profiles, UnavailableBackends) is { } fallback)
        {
            Log.FellBack(_logger, runId, plan.Backend, fallback.Profile.Name);
            plan = fallback;
        }

        return (plan, []);
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
                result = await backend.ExecuteAsync(plan, cancellationToken);
            }
            catch (SandboxInfrastructureException ex)
            {
                Log.InfrastructureFailed(_logger, plan.RunId, ex);
                result = RunResult.SandboxError(plan.RunId, ex.Message);
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
        Log.Finished(_logger, plan.RunId, result.Status.ToWireName(), result.Usage.WallMs);
        return result;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Run {RunId} rejected with {ErrorCount} error(s)")]
        public static partial void Rejected(ILogger logger, string runId, int errorCount);

        [LoggerMessage(2, LogLevel.Information, "Run {RunId} starting: profile {Profile}, backend {Backend}, runtime {Runtime}")]
        public static partial void Starting(ILogger logger, string runId, string profile, string backend, string runtime);

        [LoggerMessage(3, LogLevel.Information, "Run {RunId} finished: {Status} in {WallMs} ms")]
        public static partial void Finished(ILogger logger, string runId, string status, long wallMs);

        [LoggerMessage(4, LogLevel.Error, "Run {RunId} failed in the sandbox's own infrastructure")]
        public static partial void InfrastructureFailed(ILogger logger, string runId, Exception exception);

        [LoggerMessage(5, LogLevel.Warning, "Run {RunId}: the {Backend} backend is unreachable; falling back to profile {Profile}")]
        public static partial void FellBack(ILogger logger, string runId, string backend, string profile);
    }
}
