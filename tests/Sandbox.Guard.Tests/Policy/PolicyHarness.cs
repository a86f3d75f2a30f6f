using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Runs;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Tests.Policy;

/// <summary>
/// The guard's parts driven against a real store the way the run lifecycle drives them (facts read, the policy asked, the
/// slot held in the ledger, the writes committed in one transaction), so the policy's arithmetic is tested through the
/// store without the service. The lifecycle's own tests are in the service's test project.
/// </summary>
internal sealed class PolicyHarness(IGuardStore store, GuardOptions options, TimeProvider time, IAlertSink? alerts = null)
{
    public RunGuard Guard { get; } = new(store, options, alerts ?? NullAlertSink.Instance, time, NullLogger<RunGuard>.Instance);

    public IGuardStore Store => store;

    public Task<AuthOutcome> CheckKeyAsync(string? authorization, CancellationToken cancellationToken) => Guard.Keys.CheckKeyAsync(authorization, cancellationToken);

    public Task<Principal?> RefreshAsync(Principal principal, CancellationToken cancellationToken) => Guard.Keys.RefreshAsync(principal, cancellationToken);

    public Task<TokenOutcome> MintTokenAsync(Principal parent, TokenSpec spec, CancellationToken cancellationToken) => Guard.Tokens.MintTokenAsync(parent, spec, cancellationToken);

    /// <summary>Admission as the lifecycle does it (without the run's row): an allowed run holds a slot until <see cref="CompleteAsync"/>.</summary>
    public async Task<Admission> AdmitAsync(Principal principal, RunPlan plan, CancellationToken cancellationToken, int approvedWaiting = 0)
    {
        using (await Guard.Ledger.LockAsync(principal.Agent.Id, cancellationToken))
        {
            var now = time.GetUtcNow();
            var (usage, tokenUsage) = await UsageAsync(principal, now, cancellationToken);
            var decision = Guard.Policy.Decide(new AdmissionFacts(principal, plan, usage, tokenUsage, approvedWaiting, now));
            if (decision.Admission.Kind == AdmissionKind.Allowed)
            {
                Guard.Ledger.Hold(principal, decision.Admission.Plan!);
            }

            await store.CommitAsync(decision.Writes, cancellationToken);
            if (decision.Admission.Kind is AdmissionKind.Allowed or AdmissionKind.Pending)
            {
                Guard.Ledger.CountAdmission(principal, now);
            }

            return decision.Admission;
        }
    }

    /// <summary>An approved run asking for a slot: its effective plan, or null while none is free.</summary>
    public async Task<RunPlan?> TryReleaseAsync(Principal principal, RunPlan plan, CancellationToken cancellationToken)
    {
        using (await Guard.Ledger.LockAsync(principal.Agent.Id, cancellationToken))
        {
            var (usage, tokenUsage) = await UsageAsync(principal, time.GetUtcNow(), cancellationToken);
            if (!Guard.Ledger.CanRelease(principal, usage, tokenUsage))
            {
                return null;
            }

            var effective = Guard.Ledger.TightenToBudget(principal, plan, usage, tokenUsage);
            Guard.Ledger.Hold(principal, effective);
            return effective;
        }
    }

    /// <summary>The approval check, its refusal record committed as the lifecycle commits it with the run's end.</summary>
    public async Task<string?> CheckApprovedAsync(Principal principal, Approval approval, RunPlan plan, CancellationToken cancellationToken)
    {
        if (Guard.Policy.CheckApproved(principal, approval, plan) is not { } mismatch)
        {
            return null;
        }

        await store.CommitAsync(new RunTransition { Audit = [mismatch.Record] }, cancellationToken);
        return mismatch.Reason;
    }

    /// <summary>A run's end: charged and recorded in one transaction, then its slot given back; what remains of each budget.</summary>
    public async Task<IReadOnlyList<Budget>> CompleteAsync(Principal principal, RunPlan plan, RunResult result, bool heldSlot, JsonObject? extra, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var end = Guard.Policy.Complete(principal, plan, result, extra, now);
        await store.CommitAsync(end.Writes, cancellationToken);
        if (heldSlot)
        {
            Guard.Ledger.Give(principal, plan);
        }

        var (usage, tokenUsage) = await UsageAsync(principal, now, cancellationToken);
        return Guard.Ledger.Budgets(principal, usage, tokenUsage, now);
    }

    private async Task<(Usage, Usage)> UsageAsync(Principal principal, DateTimeOffset now, CancellationToken cancellationToken) =>
        (await store.GetUsageAsync(principal.Agent.Id, CapLedger.Day(now), cancellationToken),
         principal.IsTaskToken ? await store.GetUsageAsync(principal.Credential.Id, CapLedger.LifePeriod, cancellationToken) : Usage.Zero);
}
