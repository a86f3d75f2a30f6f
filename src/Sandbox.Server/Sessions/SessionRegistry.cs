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

    /// <summary>The cap a 429 names when a session would take an agent's open sessions past its <c>maxSessionMemoryMb</c>.</summary>
    public const string SessionMemoryCap = "session_memory_mb";

    private const long MiB = 1024 * 1024;

    // Why a session closed, as the audit record's stable `cause` (the sentence goes in its `reason`).
    public const string ClosedByDelete = "deleted";
    public const string ClosedIdle = "idle_timeout";
    public const string ClosedIdleCpu = "idle_cpu";
    public const string ClosedLifetime = "max_lifetime";
    public const string ClosedRevoked = "revoked";
    public const string ClosedShutdown = "shutdown";

    private readonly RunLifecycle _lifecycle;
    private readonly DockerSessions _sessions;
    private readonly SessionOptions _options;
    private readonly IGuardStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, SessionEntry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Count, long MemoryBytes)> _opening = new(StringComparer.Ordinal);
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
        // Every open asks for a sandbox, as a run does, so it counts against the agent's rate like one (refused or not).
        if (_lifecycle.CountSessionOpen(principal) is { } throttled)
        {
            return (null, throttled);
        }

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

        // The caps count sessions open and being opened, under one lock, so 50 requests at once cannot all pass them.
        var agentId = principal.Agent.Id;
        var memory = plan.Limits.MemoryBytes;
        lock (_gate)
        {
            var held = _entries.Values.Where(e => e.Principal.Agent.Id == agentId && e.ClosedReason is null).ToList();
            var opening = _opening.GetValueOrDefault(agentId);
            var open = held.Count + opening.Count;
            // Each session is a container held for its life: the agent's own budget bounds how many, as its other caps are.
            var maxOpen = principal.Agent.MaxOpenSessions;
            if (open >= maxOpen)
            {
                Log.CapReached(_logger, principal.Agent.Name, OpenSessionsCap, maxOpen);
                return (null, ApiProblem.CapExceeded(OpenSessionsCap,
                    $"{OpenSessionsCap}: this agent already holds {open} open session(s), its maxOpenSessions of {maxOpen}; close one with DELETE /v1/sessions/{{id}}, let it idle out, or ask the operator for a larger budget", retryAfterSeconds: null));
            }

            // An idle session keeps its container's memory: the agent's budget bounds the sum of its sessions' limits, not their use.
            var heldBytes = held.Sum(e => e.Session.Plan.Limits.MemoryBytes) + opening.MemoryBytes;
            var capMb = principal.Agent.MaxSessionMemoryMb;
            if (heldBytes + memory > capMb * MiB)
            {
                Log.CapReached(_logger, principal.Agent.Name, SessionMemoryCap, capMb);
                return (null, ApiProblem.CapExceeded(SessionMemoryCap,
                    $"{SessionMemoryCap}: this agent's {open} open session(s) hold {Mib(heldBytes)} MiB of memory and this one would add {Mib(memory)} MiB, past its maxSessionMemoryMb of {capMb}; " +
                    "close one with DELETE /v1/sessions/{id}, use a profile with less memory, or ask the operator for a larger budget", retryAfterSeconds: null));
            }

            _opening[agentId] = (opening.Count + 1, opening.MemoryBytes + memory);
        }

        try
        {
            plan = await _lifecycle.Pipeline.PinAsync(plan, cancellationToken);
            var id = "ses_" + Guid.CreateVersion7(_time.GetUtcNow()).ToString("N");
            var session = await _sessions.OpenAsync(id, plan, new DockerSessionOptions { MaxLifetime = _options.MaxLifetime, CpuBudgetMs = _options.CpuBudgetMs }, cancellationToken);
            try
            {
                // Recorded before the agent hears of it: a session nobody can find in the audit log never runs a cell.
                await _store.AppendAsync(AuditRecords.SessionOpened(principal, id, plan, session.ExpiresAt, _lifecycle.Guard.Options.NodeId), cancellationToken);
            }
            catch
            {
                await session.CloseAsync("its opening could not be recorded in the audit log");
                throw;
            }

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
                var (count, bytes) = _opening[agentId];
                if (count == 1)
                {
                    _opening.Remove(agentId);
                }
                else
                {
                    _opening[agentId] = (count - 1, bytes - memory);
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
    /// the run, queued or running, and <c>Ended</c>, which completes once the run has ended and the session is free for the
    /// next cell; or the problem that refused it (closed, busy, or the guard's answer). A caller answers after
    /// <c>Ended</c>, not after the run's own end: an agent that sends its next cell on the answer must never find the
    /// session still busy with the last one.
    /// </summary>
    public async Task<(RunEntry? Run, Task Ended, ApiProblem? Problem)> SubmitCellAsync(SessionEntry entry, Principal principal, RunRequest request, bool rawOutput, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(request);
        if (entry.ClosedReason is { } closed)
        {
            return (null, Task.CompletedTask, Problem(409, "session_closed", "The session is closed", $"session {entry.Id} is closed ({closed}); open a new one"));
        }

        if (!entry.TryBeginCell())
        {
            return (null, Task.CompletedTask, Problem(409, "session_busy", "A cell is already running in this session",
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
            return (null, Task.CompletedTask, outcome.Problem!);
        }

        // Free for the next cell once this one has its end, whether or not its caller is still there to read it. The run's
        // end wakes its waiters asynchronously, so this continuation may run after another waiter answered: callers wait
        // for it instead.
        var ended = run.Completed.ContinueWith(_ => entry.EndCell(_time.GetUtcNow()), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return (run, ended, null);
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

    /// <summary>
    /// Closes one session now: a running cell is killed, its container removed before this returns, and the close recorded
    /// with its <paramref name="cause"/> (one of the <c>Closed*</c> words) and <paramref name="reason"/>.
    /// </summary>
    public Task CloseAsync(SessionEntry entry, string cause, string reason)
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

            try
            {
                // The CPU its kernels used between cells is no cell's, so it is charged here, with the close's record: an
                // agent that left work running in its sessions' background paid nothing for it, up to IdleCpuMs a session.
                var principal = entry.Principal;
                var idleCpuMs = entry.Session.IdleCpuMs ?? 0;
                var charges = new List<UsageCharge>();
                if (idleCpuMs > 0)
                {
                    charges.Add(new UsageCharge(principal.Agent.Id, CapLedger.Day(_time.GetUtcNow()), 0, idleCpuMs));
                    if (principal.IsTaskToken)
                    {
                        charges.Add(new UsageCharge(principal.Credential.Id, CapLedger.LifePeriod, 0, idleCpuMs));
                    }
                }

                await _store.CommitAsync(new RunTransition
                {
                    Charges = charges,
                    Audit = [AuditRecords.SessionClosed(principal.Agent.Id, entry.Id, cause, reason, entry.Cells, entry.Session.Restarts, idleCpuMs)],
                }, CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The container is gone whatever the store says; a close that cannot be recorded is logged, not undone.
                Log.CloseNotAudited(_logger, entry.Id, ex);
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
                await CloseAsync(entry, ClosedLifetime, $"reached its maximum lifetime of {_options.MaxLifetime}");
            }
            else if (!entry.Busy && now - entry.LastUsedAt >= _options.IdleTimeout)
            {
                await CloseAsync(entry, ClosedIdle, $"idle for {_options.IdleTimeout} with no cell");
            }
            else if (!entry.Busy && entry.Session.IdleCpuMs is { } idleCpu && idleCpu > _options.IdleCpuMs)
            {
                // Work a cell left running (a background process or thread) is no cell's to limit or charge: it ends here.
                await CloseAsync(entry, ClosedIdleCpu, $"its interpreter used {idleCpu} ms of CPU between cells, past Sandbox:Sessions:IdleCpuMs ({_options.IdleCpuMs}); work a cell leaves running in the background belongs to no cell, so the session was closed (that CPU is charged to the agent's daily budget)");
            }
        }

        foreach (var agent in open.Where(e => e.ClosedReason is null).GroupBy(e => e.Principal.Agent.Id, StringComparer.Ordinal))
        {
            if (await _store.FindAgentAsync(agent.Key, cancellationToken) is { RevokedAt: not null } revoked)
            {
                Log.AgentRevoked(_logger, revoked.Name, agent.Count());
                await Task.WhenAll(agent.Select(e => CloseAsync(e, ClosedRevoked, $"agent '{revoked.Name}' was revoked ({revoked.RevokedReason})")));
                continue;
            }

            foreach (var byKey in agent.GroupBy(e => e.Principal.Credential.Id, StringComparer.Ordinal))
            {
                // A rotated or revoked key may have leaked: what it opened does not outlive it, as its runs do not.
                if (await _lifecycle.Guard.Keys.RevokedCredentialAsync(byKey.First().Principal.Credential, cancellationToken) is { } why)
                {
                    await Task.WhenAll(byKey.Select(e => CloseAsync(e, ClosedRevoked, why)));
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
        Task.WhenAll(_entries.Values.Where(e => e.ClosedReason is null).Select(e => CloseAsync(e, ClosedShutdown, reason)));

    public async ValueTask DisposeAsync() => await CloseAllAsync("the service stopped");

    private static string Mib(long bytes) => (bytes / (double)MiB).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);

    private static ApiProblem Problem(int status, string code, string title, string detail) => new() { Status = status, Code = code, Title = title, Detail = detail };

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Session {SessionId} opened: profile {Profile}, agent {Agent}")]
        public static partial void Opened(ILogger logger, string sessionId, string profile, string agent);

        // Debug: an agent looping opens past its cap would otherwise write a line per request (the run path's refusals are
        // counted in the audit window instead).
        [LoggerMessage(2, LogLevel.Debug, "Agent {Agent} is at its {Cap} cap of {Limit}; a session refused with 429")]
        public static partial void CapReached(ILogger logger, string agent, string cap, long limit);

        [LoggerMessage(3, LogLevel.Error, "A session for agent {Agent} could not start")]
        public static partial void OpenFailed(ILogger logger, string agent, Exception exception);

        [LoggerMessage(5, LogLevel.Error, "Session {SessionId} closed, but its close could not be recorded in the audit log")]
        public static partial void CloseNotAudited(ILogger logger, string sessionId, Exception exception);

        [LoggerMessage(4, LogLevel.Warning, "Agent {Agent} is revoked: closing its {Count} session(s)")]
        public static partial void AgentRevoked(ILogger logger, string agent, int count);
    }
}
