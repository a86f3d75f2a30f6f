using System.Net;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Faults;

/// <summary>
/// Fault 1 of issue 11: a retry with the same <c>Idempotency-Key</c> after a crash ran the code twice, because keys
/// lived only in memory. A real <c>sandbox serve</c>, kill -9, and a restart over the same data folder: the retry returns
/// the original run (completed, with the outcome start-up recovery found, or closed as interrupted) and starts nothing; the agent is not locked out, no container
/// is left, and the audit chain holds.
/// </summary>
[Collection(FaultInjectionCollection.Name)]
[Trait("Category", "Integration")]
public sealed class IdempotencyAfterCrashTests
{
    [Fact]
    public async Task Post_SameIdempotencyKeyAfterKillMinus9_ReturnsTheOriginalRunAndRunsNothing()
    {
        await using var service = FaultService.Create("idem");
        var key = await service.CreateAgentAsync("idem");
        var body = new { language = "bash", code = "echo once", purpose = "run exactly once" };
        string runId;
        (await service.StartAsync()).ShouldNotBeNull();
        {
            var (status, view, response) = await service.PostRunAsync(key, body, "key-completed");
            response.Dispose();
            status.ShouldBe(HttpStatusCode.OK, view.ToJsonString());
            runId = view["id"]!.GetValue<string>();
            service.Serve!.Kill();
        }

        await service.StartAsync();
        var (retriedStatus, retried, retriedResponse) = await service.PostRunAsync(key, body, "key-completed");
        using (retriedResponse)
        {
            retriedStatus.ShouldBe(HttpStatusCode.OK, retried.ToJsonString());
            retriedResponse.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        }

        retried["id"]!.GetValue<string>().ShouldBe(runId);
        retried["result"]!["stdout"]!.GetValue<string>().ShouldBe("once\n");
        (await service.AuditAsync($"?run={runId}&kind=receipt")).Count.ShouldBe(1, "one receipt for the run: the code ran once");

        var (otherStatus, other, otherResponse) = await service.PostRunAsync(key, new { language = "bash", code = "echo twice", purpose = "another body" }, "key-completed");
        otherResponse.Dispose();
        otherStatus.ShouldBe((HttpStatusCode)422, other.ToJsonString());
        ((string?)other["code"]).ShouldBe("idempotency_key_reused");
        (await service.AuditAsync("?kind=receipt")).Count.ShouldBe(1, "one receipt in the whole log");

        await service.AssertFollowUpAdmittedAsync(key, "idem");
        await service.AssertNoContainerLeftAsync(TimeSpan.FromSeconds(5));
        service.Serve!.Kill();
        await service.AssertAuditIntactAsync();
    }

    [Fact]
    public async Task Post_SameIdempotencyKeyAfterKillMinus9DuringTheRun_ReturnsTheRecordedRunAndRunsNothing()
    {
        await using var service = FaultService.Create("idem-running");
        var key = await service.CreateAgentAsync("idem-running");
        var body = new { language = "bash", code = "echo started; sleep 30", @async = true, purpose = "be killed with the service" };
        await service.StartAsync();
        var (status, accepted, response) = await service.PostRunAsync(key, body, "key-interrupted");
        response.Dispose();
        status.ShouldBe(HttpStatusCode.Accepted, accepted.ToJsonString());
        var runId = accepted["id"]!.GetValue<string>();
        await service.Http.WaitForRunStateAsync(key, runId, "running");
        service.Serve!.Kill();

        var restarted = await service.StartAsync();
        var recovery = System.Diagnostics.Stopwatch.StartNew();
        var (retriedStatus, view, retriedResponse) = await service.PostRunAsync(key, body, "key-interrupted");
        using (retriedResponse)
        {
            retriedStatus.ShouldBe(HttpStatusCode.OK, view.ToJsonString());
            retriedResponse.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        }

        view["id"]!.GetValue<string>().ShouldBe(runId);
        view["state"]!.GetValue<string>().ShouldBe("completed");
        var results = await service.AuditAsync($"?run={runId}&kind=result");
        results.Count.ShouldBe(1, "one final record, not one per restart");
        var recorded = results.Single()!["status"]!.GetValue<string>();

        // The answer and the record agree: what the retry is told is what the audit log says happened.
        view["result"]!["status"]!.GetValue<string>().ShouldBe(recorded == "interrupted" ? "sandbox_error" : recorded, view.ToJsonString());
        if (recorded == "interrupted")
        {
            view["result"]!["message"]!.GetValue<string>().ShouldStartWith("interrupted: ");
        }

        (await service.AuditAsync("?kind=receipt")).Count.ShouldBe(1, "the retry started nothing");
        await service.AssertFollowUpAdmittedAsync(key, "idem-running");

        // Start-up recovery (fault 3) found the run's container and recorded its real end, so nothing is left behind.
        await service.AssertNoContainerLeftAsync(TimeSpan.FromSeconds(5));
        FaultService.Report(FaultService.Invariant($"fault 1 (kill -9 while running): recorded {recorded}; replay and follow-up within {recovery.Elapsed.TotalSeconds:0.0} s of the restart; RSS {service.RssMiB():0} MiB"));
        restarted.Kill();
        await service.AssertAuditIntactAsync();
    }
}
