using Microsoft.Extensions.Logging;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Policy;

/// <summary>
/// The guard, assembled: who is calling (<see cref="Keys"/>), task tokens (<see cref="Tokens"/>), the caps and the one
/// place slots and reservations are kept (<see cref="Ledger"/>), and the run path's policy (<see cref="Policy"/>), which
/// decides over facts and leaves every write of a run's life to the run lifecycle. What stays here is the work that is
/// no run's transition: closing what a crash left open (<see cref="ReconcileAsync"/>) and closing approvals nobody decided.
/// </summary>
public sealed partial class RunGuard
{
    private readonly IGuardStore _store;
    private readonly GuardOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public RunGuard(IGuardStore store, GuardOptions options, IAlertSink alerts, TimeProvider time, ILogger<RunGuard> logger)
    {
        _store = store;
        _options = options;
        _time = time;
        _logger = logger;
        Ledger = new CapLedger();
        Keys = new Authenticator(store, options, time, logger);
        Refusals = new RefusalAudit(store, options, time, logger);
        Tokens = new TokenMinter(store, options, Ledger, Refusals, time, logger);
        Policy = new RunPolicy(options, Ledger, alerts, logger);
    }

    public Authenticator Keys { get; }

    /// <summary>Which refused requests are audited one by one: at most so many per agent and minute, the rest counted.</summary>
    public RefusalAudit Refusals { get; }

    public TokenMinter Tokens { get; }

    public CapLedger Ledger { get; }

    public RunPolicy Policy { get; }

    public GuardOptions Options => _options;

    /// <summary>This process's name in request records; see <see cref="GuardOptions.NodeId"/>.</summary>
    public string NodeId => Policy.NodeId;

    /// <summary>
    /// The runs this node left open (a receipt or request and no result): another process sharing the store may be
    /// running its own right now, so only runs that are ours are recovered or closed: those whose row names this node as its
    /// owner (a node's leases, see <see cref="INodeLeases"/>: a run taken over from a dead node is the survivor's), else,
    /// for a row with no owner, those whose request record names this node.
    /// </summary>
    public async Task<IReadOnlyList<OpenRun>> OwnOpenRunsAsync(CancellationToken cancellationToken)
    {
        var open = new List<OpenRun>();
        foreach (var run in await _store.OpenRunsAsync(cancellationToken))
        {
            var row = await _store.FindRunAsync(run.RunId, cancellationToken);
            if (row?.OwnerNode is { } owner)
            {
                if (owner == NodeId)
                {
                    open.Add(run);
                }

                continue;
            }

            if (row?.Needs is not null)
            {
                // Offered to every node and not claimed yet (IRunClaims): still waiting in the shared queue, nobody's to close.
                continue;
            }

            var request = await _store.QueryAuditAsync(new AuditQuery { RunId = run.RunId, Kind = AuditKinds.Request, Limit = 1 }, cancellationToken);
            if (request.Count == 1 && System.Text.Json.Nodes.JsonNode.Parse(request[0].Data)?["node"]?.GetValue<string>() is { } node && node != NodeId)
            {
                continue;
            }

            open.Add(run);
        }

        return open;
    }

    /// <summary>
    /// Start-up reconciliation: the final record of each run the process died under (found in the store, ours only) is
    /// <c>interrupted</c>, its row says the same, and approvals that can never be released are closed. Returns how many runs.
    /// </summary>
    /// <param name="skip">Runs start-up recovery follows in the background (still running): they get their real end from it.</param>
    /// <param name="cancellationToken">Cancels the reconciliation.</param>
    public async Task<int> ReconcileAsync(Func<string, bool>? skip, CancellationToken cancellationToken)
    {
        var open = (await OwnOpenRunsAsync(cancellationToken)).Where(r => skip?.Invoke(r.RunId) != true).ToList();
        foreach (var run in open)
        {
            await CloseInterruptedAsync(run, $"the service stopped without recording a result (last record: {run.Stage} at {AuditChain.FormatTime(run.Since)}); reconciled at start-up", cancellationToken);
        }

        // Approvals of runs that died with the process, or that already ended (their approval could not be closed
        // then), can never be released: expire them so nobody approves a ghost.
        foreach (var approval in await _store.ListApprovalsAsync(ApprovalState.Pending, cancellationToken))
        {
            if (open.Any(o => o.RunId == approval.RunId)
                || (await _store.QueryAuditAsync(new AuditQuery { RunId = approval.RunId, Kind = AuditKinds.Result, Limit = 1 }, cancellationToken)).Count > 0)
            {
                await CloseAsync(approval, "the service restarted before a decision", cancellationToken);
            }
        }

        return open.Count;
    }

    /// <summary>
    /// Closes one run the process died under as <c>interrupted</c>: its record and its row in one transaction, so GET and a
    /// retried idempotency key answer with this end after the restart. False when it already had an end.
    /// </summary>
    public async Task<bool> CloseInterruptedAsync(OpenRun run, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var closed = await _store.CommitAsync(InterruptedTransition(run, reason), cancellationToken);
        if (closed)
        {
            Log.Reconciled(_logger, run.RunId, run.Stage);
        }

        return closed;
    }

    /// <summary>
    /// The one close of a run nobody will finish: its row completed <c>interrupted</c> and its result record, in one
    /// transition. Start-up reconciliation, recovery and the takeover of a dead node all close runs with it.
    /// </summary>
    public RunTransition InterruptedTransition(OpenRun run, string reason)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new RunTransition
        {
            Complete = new RunCompletion(run.RunId, "interrupted", reason, _time.GetUtcNow(), View: null, ExpiresAt: null),
            Audit = [AuditRecords.Interrupted(run, reason)],
        };
    }

    /// <summary>
    /// Takes over a node whose lease expired (issue 15, point 5), exactly once across the nodes: in one transaction its
    /// running runs (and those waiting for a human) are closed as interrupted with their result records, as start-up
    /// reconciliation closes a crashed node's own, their approvals closed; its queued runs become this node's, returned for
    /// the caller to run. Null when another node took it over first, or it renewed in time.
    /// </summary>
    public async Task<NodeTakeover?> TakeOverAsync(INodeLeases leases, NodeLease dead, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(leases);
        ArgumentNullException.ThrowIfNull(dead);

        // Read before the transaction (reads take no lock): the dead node writes nothing more that counts, as its fence is refused.
        var open = (await _store.OpenRunsAsync(cancellationToken)).ToDictionary(r => r.RunId, StringComparer.Ordinal);
        var approvals = (await _store.ListApprovalsAsync(ApprovalState.Pending, cancellationToken))
            .GroupBy(a => a.RunId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var now = _time.GetUtcNow();
        var takeover = await leases.TakeOverAsync(dead, runs => [.. runs.Select(row =>
        {
            var run = open.GetValueOrDefault(row.RunId) ?? new OpenRun(row.RunId, row.AgentId, row.State, row.CreatedAt);
            var reason = $"node {dead.NodeId} stopped renewing its lease (it died, or lost the database) while the run was {row.State}; closed by node {NodeId}";
            var close = InterruptedTransition(run, reason);
            if (!approvals.TryGetValue(row.RunId, out var approval))
            {
                return close;
            }

            const string Note = "the node that held the run died before a decision";
            return close with { Withdraw = new ApprovalClosing(approval.Id, Note, now, AuditRecords.ApprovalClosed(approval, Note)) };
        })], cancellationToken);
        if (takeover is not null)
        {
            Log.TookOver(_logger, dead.NodeId, dead.Fence, takeover.Closed.Count, takeover.Queued.Count);
        }

        return takeover;
    }

    /// <summary>Expires a pending approval whose time ran out, with its audit record; null when someone decided it first.</summary>
    public Task<Approval?> ExpireAsync(Approval approval, CancellationToken cancellationToken) =>
        CloseAsync(approval, $"no decision within {RunDetectors.Describe(_options.ApprovalTimeout)}", cancellationToken);

    private Task<Approval?> CloseAsync(Approval approval, string note, CancellationToken cancellationToken) =>
        _store.DecideApprovalAsync(approval.Id, ApprovalState.Expired, "system", note, _time.GetUtcNow(), AuditRecords.ApprovalClosed(approval, note), cancellationToken);

    private static partial class Log
    {
        [LoggerMessage(5, LogLevel.Warning, "Run {RunId} had no result after a restart (last: {Stage}); recorded as interrupted")]
        public static partial void Reconciled(ILogger logger, string runId, string stage);

        [LoggerMessage(6, LogLevel.Warning, "Node {DeadNode} (fence {Fence}) let its lease expire: took it over, {Closed} run(s) closed as interrupted and {Queued} queued run(s) taken to run here")]
        public static partial void TookOver(ILogger logger, string deadNode, long fence, int closed, int queued);
    }
}
