using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Execution;
using Sandbox.Core.Runs;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Policy;

/// <summary>What the policy decides on: who asks, the planned run, and the facts read for it (usage from the store, waiting runs from the lifecycle).</summary>
/// <param name="Principal">Who asks.</param>
/// <param name="Plan">The planned run.</param>
/// <param name="Usage">The agent's usage today (UTC).</param>
/// <param name="TokenUsage">The task token's usage over its life (zero for an agent key).</param>
/// <param name="ApprovedWaiting">The agent's approved runs waiting for a slot: they count towards the concurrency cap like queued runs.</param>
/// <param name="Now">The time of the decision.</param>
public sealed record AdmissionFacts(Principal Principal, RunPlan Plan, Usage Usage, Usage TokenUsage, int ApprovedWaiting, DateTimeOffset Now);

/// <summary>
/// A decision and everything it writes: the request and decision records, the runs it charges, an approval, a hold an
/// alert puts on the agent. The caller commits <see cref="Writes"/> (with the run's own row) in one transaction, then
/// publishes <see cref="Alerts"/>; nothing of it is written when the commit fails.
/// </summary>
public sealed record PolicyDecision(Admission Admission, RunTransition Writes, IReadOnlyList<Alert> Alerts);

/// <summary>What a run's end writes besides its row: the CPU it charges, its result record, and what the detectors make of it.</summary>
public sealed record CompletionWrites(RunTransition Writes, IReadOnlyList<Alert> Alerts);

/// <summary>
/// The guard's policy on the run path, over facts handed to it: the allow-list, the caps (through the
/// <see cref="CapLedger"/>), whether a human must approve, whether an approved run is still what was approved, and the
/// records of each. It reads nothing and writes nothing; the run lifecycle commits what it returns. The detectors' memory
/// of recent runs is the one state it keeps.
/// </summary>
public sealed partial class RunPolicy
{
    private readonly GuardOptions _options;
    private readonly CapLedger _ledger;
    private readonly RunDetectors _detectors;
    private readonly IAlertSink _alerts;
    private readonly ILogger _logger;

    public RunPolicy(GuardOptions options, CapLedger ledger, IAlertSink alerts, ILogger logger)
    {
        _options = options;
        _ledger = ledger;
        _detectors = new RunDetectors(options.Alerts);
        _alerts = alerts;
        _logger = logger;
    }

    /// <summary>This process's name in request records; see <see cref="GuardOptions.NodeId"/>.</summary>
    public string NodeId => _options.NodeId ?? Environment.MachineName;

    /// <summary>Problems with the guard's own fields of a request (the stated purpose), each naming its field.</summary>
    public IReadOnlyList<FieldError> CheckRequest(RunRequest request) =>
        request.Purpose is { } purpose && purpose.Length > _options.MaxPurposeLength
            ? [new FieldError("purpose", $"is {purpose.Length} characters; the most is {_options.MaxPurposeLength}; say why in a sentence or two")]
            : [];

    /// <summary>The records of a request refused before the guard's decision (invalid input, a full queue): a request and a rejection, so there is no gap.</summary>
    public RunTransition Refusal(Principal principal, RunRequest? request, string runId, string code, string reason) => new()
    {
        Audit = request is null
            ? [AuditRecords.Decision(principal, runId, "rejected", code, reason)]
            : [AuditRecords.Request(principal, request, runId, resolvedProfile: null, NodeId, withCode: false), AuditRecords.Decision(principal, runId, "rejected", code, reason)],
    };

    /// <summary>
    /// The decision on a planned run, in order: the allow-list, the caps, then whether a human must approve. An allowed
    /// run's plan is tightened to what the CPU budgets have left; the caller holds its slot in the ledger (under the
    /// agent's lock, as this decision must be) and commits the writes with the run's row and receipt.
    /// </summary>
    public PolicyDecision Decide(AdmissionFacts facts)
    {
        var (principal, plan, now) = (facts.Principal, facts.Plan, facts.Now);
        var agent = principal.Agent;
        var runId = plan.RunId;
        if (!principal.Allows(plan.Profile.Name))
        {
            var reason = $"profile '{plan.Profile.Name}' is not on the allow-list of {principal} ({string.Join(", ", principal.Profiles)}); nothing ran";
            var rejected = new Admission
            {
                Kind = AdmissionKind.Rejected,
                Code = "profile_not_allowed",
                Reason = reason,
                Errors = [new FieldError(plan.Request.Profile is null ? "language" : "profile", $"profile '{plan.Profile.Name}' is not allowed for this key; allowed: {string.Join(", ", principal.Profiles)}")],
            };
            return new PolicyDecision(rejected, new RunTransition
            {
                Audit = [Request(principal, plan, withCode: false), AuditRecords.Decision(principal, runId, "rejected", "profile_not_allowed", reason)],
            }, []);
        }

        // The caps are checked before the code is written: a throttled caller's code is not kept (its hash and size are).
        if (_ledger.CheckCaps(principal, facts.ApprovedWaiting, facts.Usage, facts.TokenUsage, now) is { } throttled)
        {
            // Logged by whoever records the refusal, and only when it does: a flood over a cap must not flood the log either.
            return new PolicyDecision(throttled, new RunTransition
            {
                Audit = [Request(principal, plan, withCode: false), AuditRecords.Decision(principal, runId, "throttled", "cap_exceeded", throttled.Reason!, throttled.Cap)],
            }, []);
        }

        // Admitted from here on: it counts towards the daily runs whether it runs now or waits for a human.
        var audit = new List<AuditEntry> { Request(principal, plan, withCode: true) };
        List<UsageCharge> charges = [new(agent.Id, CapLedger.Day(now), 1, 0, StoredBytes.OfRequest(plan.Request))];
        if (principal.IsTaskToken)
        {
            charges.Add(new UsageCharge(principal.Credential.Id, CapLedger.LifePeriod, 1, 0));
        }

        var alerts = _detectors.OnAdmitted(new RunObservation(agent.Id, agent.Name, runId, AuditRecords.Sha256(plan.Request.Code), now, null));
        var holds = AlertRecords(alerts, audit);

        // An alert above may just have put the agent under approval: this very run then waits.
        var held = holds.FirstOrDefault(h => h.AgentId == agent.Id);
        var approvalReason = plan.Profile.RequiresApproval
            ? $"profile '{plan.Profile.Name}' requires a human's approval for every run"
            : agent.UnderApproval ? $"agent '{agent.Name}' is under approval: {agent.UnderApprovalReason}"
            : held is not null ? $"agent '{agent.Name}' is under approval: {held.Reason}" : null;
        if (approvalReason is not null)
        {
            var approval = NewApproval(principal, plan, approvalReason, now);
            var decision = AuditRecords.Decision(principal, runId, "pending", "approval_required", approvalReason);
            decision.Data["approvalId"] = approval.Id;
            decision.Data["expiresAt"] = AuditChain.FormatTime(approval.ExpiresAt);
            audit.Add(decision);
            Log.Pending(_logger, runId, agent.Name, approval.Id);
            return new PolicyDecision(
                new Admission { Kind = AdmissionKind.Pending, Code = "approval_required", Reason = approvalReason, Approval = approval },
                new RunTransition { Charges = charges, Approval = approval, Holds = holds, Audit = audit },
                alerts);
        }

        var effective = _ledger.TightenToBudget(principal, plan, facts.Usage, facts.TokenUsage);
        var allowed = AuditRecords.Decision(principal, runId, "allowed", null, "within the allow-list and every cap");
        if (effective.Limits.CpuTimeMs < plan.Limits.CpuTimeMs)
        {
            allowed.Data["cpuTimeMsTightenedTo"] = effective.Limits.CpuTimeMs;
        }

        if (effective.Profile.Compile?.Limits.CpuTimeMs < plan.Profile.Compile?.Limits.CpuTimeMs)
        {
            allowed.Data["compileCpuTimeMsTightenedTo"] = effective.Profile.Compile!.Limits.CpuTimeMs;
        }

        audit.Add(allowed);
        return new PolicyDecision(new Admission { Kind = AdmissionKind.Allowed, Plan = effective },
            new RunTransition { Charges = charges, Holds = holds, Audit = audit }, alerts);
    }

    /// <summary>
    /// Before an approved run is released: whether what was approved is still what would run. Both the approval record
    /// (what the approver was shown) and the run's plan must hash to the digest taken when the approval was made;
    /// otherwise the reason, and the decision record refusing the run.
    /// </summary>
    public (string Reason, AuditEntry Record)? CheckApproved(Principal principal, Approval approval, RunPlan plan)
    {
        var reason = approval.RequestSha256 is not { } approved
            ? "the approval predates approvals that bind the whole request; submit the run again"
            : ApprovalDigest.Of(approval) != approved
                ? "the approval's record was changed after it was made, so what the approver saw is not what was approved; submit the run again"
                : ApprovalDigest.Of(plan) != approved
                    ? "what would run (code, files, stdin, profile, runtime or limits) is not what was approved; submit the run again"
                    : null;
        if (reason is null)
        {
            return null;
        }

        Log.ApprovalMismatch(_logger, plan.RunId, approval.Id);
        return (reason, AuditRecords.ApprovalMismatch(principal, plan.RunId, approval, reason));
    }

    /// <summary>
    /// A run's end: its measured CPU charged to the budgets (nothing for <c>sandbox_error</c>: our fault, not the agent's),
    /// its result record, and what the detectors make of it. The caller commits these with the run's row, then gives back its slot.
    /// </summary>
    public CompletionWrites Complete(Principal principal, RunPlan plan, RunResult result, JsonObject? extra, DateTimeOffset now)
    {
        var agent = principal.Agent;

        // The compiler's CPU is the agent's too: a budget that skipped it could be spent compiling, for free.
        var cpuMs = result.Status == RunStatus.SandboxError ? 0 : result.Usage.CpuMs + (result.Usage.CompileCpuMs ?? 0);
        var charges = new List<UsageCharge>();
        var stored = StoredBytes.OfResult(result);
        if (cpuMs > 0 || stored > 0)
        {
            // What the result keeps is charged whoever's fault the end was: it takes the disk all the same.
            charges.Add(new UsageCharge(agent.Id, CapLedger.Day(now), 0, cpuMs, stored));
            if (principal.IsTaskToken && cpuMs > 0)
            {
                charges.Add(new UsageCharge(principal.Credential.Id, CapLedger.LifePeriod, 0, cpuMs));
            }
        }

        var audit = new List<AuditEntry> { AuditRecords.Result(principal, plan, result, extra) };
        var alerts = _detectors.OnCompleted(new RunObservation(agent.Id, agent.Name, plan.RunId, AuditRecords.Sha256(plan.Request.Code), now, result.Status.ToWireName()));
        var holds = AlertRecords(alerts, audit);
        return new CompletionWrites(new RunTransition { Charges = charges, Holds = holds, Audit = audit }, alerts);
    }

    /// <summary>
    /// Takes back what <see cref="Decide"/> told the detectors when the decision's commit failed: the run was never
    /// admitted, so it must not count towards a loop or a rate spike.
    /// </summary>
    public void Withdraw(Principal principal, string runId)
    {
        ArgumentNullException.ThrowIfNull(principal);
        _detectors.Withdraw(principal.Agent.Id, runId);
    }

    /// <summary>Hands alerts to the sink, once what raised them is committed: a slow webhook never slows a run.</summary>
    public void Publish(IReadOnlyList<Alert> alerts)
    {
        foreach (var alert in alerts)
        {
            _alerts.Publish(alert);
        }
    }

    private AuditEntry Request(Principal principal, RunPlan plan, bool withCode) =>
        AuditRecords.Request(principal, plan.Request, plan.RunId, plan.Profile.Name, NodeId, withCode);

    /// <summary>Each alert's record (and, with <see cref="AlertOptions.HoldAgent"/>, the hold's) appended to <paramref name="audit"/>; the holds to write.</summary>
    private List<AgentHold> AlertRecords(IReadOnlyList<Alert> alerts, List<AuditEntry> audit)
    {
        var holds = new List<AgentHold>();
        foreach (var alert in alerts)
        {
            Log.AlertFired(_logger, alert.Detector, alert.AgentName, alert.Summary);
            audit.Add(AuditRecords.Alert(alert, _options.Alerts.HoldAgent));
            if (_options.Alerts.HoldAgent)
            {
                audit.Add(AuditRecords.Hold(alert));
                holds.Add(new AgentHold(alert.AgentId, "alert: " + alert.Summary));
            }
        }

        return holds;
    }

    private Approval NewApproval(Principal principal, RunPlan plan, string reason, DateTimeOffset now) => new()
    {
        Id = AgentKeys.NewId("apr_"),
        RunId = plan.RunId,
        AgentId = principal.Agent.Id,
        AgentName = principal.Agent.Name,
        Profile = plan.Profile.Name,
        Language = plan.Request.Language,
        CodeSha256 = AuditRecords.Sha256(plan.Request.Code),
        Code = plan.Request.Code,
        // Everything that runs, not only the code: an approver who sees only `import helper` approves helper.py unseen.
        Stdin = plan.Request.Stdin,
        Files = (plan.Request.Files ?? []).Select(ApprovalDigest.File).ToList(),
        Backend = plan.Backend,
        Runtime = plan.Runtime,
        Limits = plan.Limits,
        RequestSha256 = ApprovalDigest.Of(plan),
        Purpose = plan.Request.Purpose,
        Reason = reason,
        CreatedAt = now,
        ExpiresAt = now + _options.ApprovalTimeout,
    };

    private static partial class Log
    {
        [LoggerMessage(3, LogLevel.Information, "Run {RunId} of agent {Agent} waits for approval {ApprovalId}")]
        public static partial void Pending(ILogger logger, string runId, string agent, string approvalId);

        [LoggerMessage(4, LogLevel.Warning, "Alert {Detector} for agent {Agent}: {Summary}")]
        public static partial void AlertFired(ILogger logger, string detector, string agent, string summary);

        [LoggerMessage(7, LogLevel.Warning, "Run {RunId} was approved ({ApprovalId}), but what would run no longer matches what was approved; refused")]
        public static partial void ApprovalMismatch(ILogger logger, string runId, string approvalId);
    }
}
