using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Errors;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Docker.Sessions;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Sessions;

/// <summary>
/// The service's sessions: opens them (plan, allow-list, per-agent cap), finds them for their agent, and closes them on
/// DELETE, when idle or past their lifetime, when their agent or key is revoked, and at shutdown. A cell is a run: it goes
/// through the run lifecycle (guard, budgets, queue, receipt naming the session) with the session on its plan.
/// </summary>
internal sealed partial class SessionRegistry : IAsyncDisposable
{
    /// <summary>The cap a 429 names when an agent holds its most sessions.</summary>
    public const string OpenSessionsCap = "open_sessions";

    private readonly RunLifecycle _lifecycle;
    private readonly DockerSessions _sessions;
    private readonly SessionOptions _options;
    private readonly IGuardStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, SessionEntry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _opening = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public SessionRegistry(RunLifecycle lifecycle, DockerSessions sessions, SessionOptions options, IGuardStore store, TimeProvider time, ILogger<SessionRegistry> logger)
    {
        _lifecycle = lifecycle;
        _sessions = sessions;
        _options = options;
        _store = store;
        _time = time;
        _logger = logger;
    }

    public RunLifecycle Lifecycle => _lifecycle;

    public TimeProvider Time => _time;

    /// <summary>Open sessions, for tests and metrics.</summary>
    public int OpenCount => _entries.Values.Count(e => e.ClosedReason is null);

    /// <summary>Opens a session for <paramref name="principal"/> and waits until its interpreter answers; or the problem that refused it.</summary>
    public async Task<(SessionEntry? Entry, ApiProblem? Problem)> OpenAsync(Principal principal, SessionRequestBody body, CancellationToken cancellationToken)
    {
        if (!_lifecycle.Accepting)
        {
            return (null, Problem(503, "shutting_down", "The service is shutting down", "the service is shutting down and opens no sessions; retry against the next instance"));
        }

        var request = new RunRequest { Language = body.Language, Code = "pass", Profile = body.Profile, Runtime = body.Runtime, Purpose = body.Purpose };
        var (plan, errors) = _lifecycle.Plan(request, principal);
        if (plan is null)
        {
            return (null, ApiProblem.Invalid(errors));
        }

        if (!principal.Allows(plan.Profile.Name))
        {
            return (null, new ApiProblem
            {
                Status = 403,
                Code = "rejected",
                Title = "Not allowed for this key",
                Detail = $"profile '{plan.Profile.Name}' is not on this key's allow-list ({string.Join(", ", principal.Profiles)})",
                Errors = [new FieldError(body.Profile is null ? "language" : "profile", $"profile '{plan.Profile.Name}' is not on this key's allow-list")],
            });
        }

        if (Unsupported(plan.Profile, body.Profile is null ? "language" : "profile") is { } unsupported)
        {
            return (null, unsupported);
        }

        // The cap counts sessions open and being opened, under one lock, so 50 requests at once cannot all pass it.
        var agentId = principal.Agent.Id;
        lock (_gate)
        {
            var open = _entries.Values.Count(e => e.Principal.Agent.Id == agentId && e.ClosedReason is null) + _opening.GetValueOrDefault(agentId);
            if (open >= _options.MaxOpenPerAgent)
            {
                Log.CapReached(_logger, principal.Agent.Name, _options.MaxOpenPerAgent);
                return (null, ApiProblem.CapExceeded(OpenSessionsCap,
                    $"{OpenSessionsCap}: this agent already holds {open} open session(s), its most ({_options.MaxOpenPerAgent}); close one with DELETE /v1/sessions/{{id}} or let it idle out", retryAfterSeconds: null));
            }

            _opening[agentId] = _opening.GetValueOrDefault(agentId) + 1;
        }

        try
        {
            plan = await _lifecycle.Pipeline.PinAsync(plan, cancellationToken);
            var id = "ses_" + Guid.CreateVersion7(_time.GetUtcNow()).ToString("N");
            var session = await _sessions.OpenAsync(id, plan, new DockerSessionOptions { MaxLifetime = _options.MaxLifetime, CpuBudgetMs = _options.CpuBudgetMs }, cancellationToken);
            var entry = new SessionEntry(id, principal, session, _time.GetUtcNow());
            _entries[id] = entry;
            Log.Opened(_logger, id, plan.Profile.Name, principal.Agent.Name);
            return (entry, null);
        }
        catch (SandboxInfrastructureException ex)
        {
            Log.OpenFailed(_logger, principal.Agent.Name, ex);
            return (null, Problem(503, "sandbox_error", "The session could not start", "sandbox_error: " + ex.ResultMessage));
        }
        finally
        {
            lock (_gate)
            {
                _opening[agentId] -= 1;
                if (_opening[agentId] == 0)
                {
                    _opening.Remove(agentId);
                }
            }
        }
    }

    /// <summary>Why <paramref name="profile"/> keeps no session (naming <paramref name="field"/>); null when it does.</summary>
    public static ApiProblem? Unsupported(Profile profile, string field)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (DockerSessions.Supports(profile))
        {
            return null;
        }

        var why = profile.Backend != BackendNames.Docker
            ? $"profile '{profile.Name}' runs on WebAssembly, which keeps no sessions: each run is a fresh instance whose memory is discarded, which is the point of that backend; use a Docker profile of the language for a session"
            : profile.Compile is not null
                ? $"profile '{profile.Name}' compiles its program whole before it runs ({profile.Language}), so there is no interpreter whose state a session could keep between cells; run it with POST /v1/runs"
                : $"language '{profile.Language}' has no session kernel (sessions keep state for: {string.Join(", ", DockerSessions.Languages.Order(StringComparer.Ordinal))}); run it with POST /v1/runs";
        return new ApiProblem
        {
            Status = 400,
            Code = "session_unsupported",
            Title = "This profile keeps no sessions",
            Detail = why,
            Errors = [new FieldError(field, why)],
        };
    }

    /// <summary>A session of this agent (a task token sees only its own); another agent's is as unknown as none.</summary>
    public SessionEntry? Find(string id, Principal principal) =>
        _entries.GetValueOrDefault(id) is { } entry && entry.Principal.Agent.Id == principal.Agent.Id
            && (!principal.IsTaskToken || entry.Principal.Credential.Id == principal.Credential.Id)
            ? entry
            : null;

    /// <summary>
    /// Admits one cell of <paramref name="entry"/> as a run (the caller has checked its fields with <see cref="SessionCells"/>):
    /// the run, queued or running, or the problem that refused it (closed, busy, or the guard's answer).
    /// </summary>
    public async Task<(RunEntry? Run, ApiProblem? Problem)> SubmitCellAsync(SessionEntry entry, Principal principal, RunRequest request, bool rawOutput, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(request);
        if (entry.ClosedReason is { } closed)
        {
            return (null, Problem(409, "session_closed", "The session is closed", $"session {entry.Id} is closed ({closed}); open a new one"));
        }

        if (!entry.TryBeginCell())
        {
            return (null, Problem(409, "session_busy", "A cell is already running in this session",
                $"session {entry.Id} runs one cell at a time and one is queued or running; wait for its answer, then send the next"));
        }

        SubmitOutcome outcome;
        try
        {
            // The session's own profile and runtime: a cell runs where its state is.
            outcome = await _lifecycle.SubmitCellAsync(principal, request with { Profile = entry.Session.ProfileName, Runtime = entry.Session.Plan.Runtime },
                rawOutput, entry.Session, cancellationToken);
        }
        catch
        {
            entry.AbandonCell();
            throw;
        }

        if (outcome.Entry is not { } run)
        {
            entry.AbandonCell();
            return (null, outcome.Problem!);
        }

        // Free for the next cell once this one has its end, whether or not its caller is still there to read it.
        _ = run.Completed.ContinueWith(_ => entry.EndCell(_time.GetUtcNow()), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return (run, null);
    }

    /// <summary>404 <c>session_not_found</c>: unknown, another agent's, or closed long enough ago to be forgotten.</summary>
    public static ApiProblem NotFound(string id) => Problem(404, "session_not_found", "No such session",
        $"no session '{Core.Text.DisplayText.Escape(id.Length > 80 ? id[..80] : id, keepNewlinesAndTabs: false)}' is known for this key; open one first (closed sessions are forgotten after a while)");

    public static SessionView View(SessionEntry entry, SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(options);
        var plan = entry.Session.Plan;
        return new SessionView
        {
            Id = entry.Id,
            State = entry.ClosedReason is null ? "open" : "closed",
            Language = plan.Profile.Language,
            Profile = plan.Profile.Name,
            Runtime = plan.Runtime,
            CreatedAt = entry.CreatedAt,
            LastUsedAt = entry.LastUsedAt,
            IdleExpiresAt = entry.ClosedReason is null ? entry.LastUsedAt + options.IdleTimeout : null,
            ExpiresAt = entry.Session.ExpiresAt,
            Busy = entry.Busy,
            Cells = entry.Cells,
            Restarts = entry.Session.Restarts,
            Limits = plan.Limits,
            ClosedAt = entry.ClosedAt,
            ClosedReason = entry.ClosedReason,
        };
    }

    /// <summary>Closes one session now: a running cell is killed, its container removed before this returns.</summary>
    public Task CloseAsync(SessionEntry entry, string reason)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.CloseOnceAsync(async () =>
        {
            await entry.Session.CloseAsync(reason);
            lock (_gate)
            {
                entry.ClosedAt = _time.GetUtcNow();
                entry.ClosedReason = reason;
            }
        });
    }

    /// <summary>One sweep: idle and expired sessions close, as do those of a revoked agent or key; long-closed ones are forgotten.</summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var open = _entries.Values.Where(e => e.ClosedReason is null).ToList();
        foreach (var entry in open)
        {
            if (now >= entry.Session.ExpiresAt)
            {
                await CloseAsync(entry, $"reached its maximum lifetime of {_options.MaxLifetime}");
            }
            else if (!entry.Busy && now - entry.LastUsedAt >= _options.IdleTimeout)
            {
                await CloseAsync(entry, $"idle for {_options.IdleTimeout} with no cell");
            }
        }

        foreach (var agent in open.Where(e => e.ClosedReason is null).GroupBy(e => e.Principal.Agent.Id, StringComparer.Ordinal))
        {
            if (await _store.FindAgentAsync(agent.Key, cancellationToken) is { RevokedAt: not null } revoked)
            {
                Log.AgentRevoked(_logger, revoked.Name, agent.Count());
                await Task.WhenAll(agent.Select(e => CloseAsync(e, $"agent '{revoked.Name}' was revoked ({revoked.RevokedReason})")));
                continue;
            }

            foreach (var byKey in agent.GroupBy(e => e.Principal.Credential.Id, StringComparer.Ordinal))
            {
                // A rotated or revoked key may have leaked: what it opened does not outlive it, as its runs do not.
                if (await _lifecycle.Guard.Keys.RevokedCredentialAsync(byKey.First().Principal.Credential, cancellationToken) is { } why)
                {
                    await Task.WhenAll(byKey.Select(e => CloseAsync(e, why)));
                }
            }
        }

        foreach (var closed in _entries.Values.Where(e => e.ClosedAt is { } at && now - at > _options.ClosedRetention).ToList())
        {
            _entries.TryRemove(closed.Id, out _);
        }
    }

    /// <summary>Closes every open session (shutdown).</summary>
    public Task CloseAllAsync(string reason) =>
        Task.WhenAll(_entries.Values.Where(e => e.ClosedReason is null).Select(e => CloseAsync(e, reason)));

    public async ValueTask DisposeAsync() => await CloseAllAsync("the service stopped");

    private static ApiProblem Problem(int status, string code, string title, string detail) => new() { Status = status, Code = code, Title = title, Detail = detail };

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Session {SessionId} opened: profile {Profile}, agent {Agent}")]
        public static partial void Opened(ILogger logger, string sessionId, string profile, string agent);

        [LoggerMessage(2, LogLevel.Warning, "Agent {Agent} is at its cap of {Cap} open session(s); refused with 429")]
        public static partial void CapReached(ILogger logger, string agent, int cap);

        [LoggerMessage(3, LogLevel.Error, "A session for agent {Agent} could not start")]
        public static partial void OpenFailed(ILogger logger, string agent, Exception exception);

        [LoggerMessage(4, LogLevel.Warning, "Agent {Agent} is revoked: closing its {Count} session(s)")]
        public static partial void AgentRevoked(ILogger logger, string agent, int count);
    }
}
