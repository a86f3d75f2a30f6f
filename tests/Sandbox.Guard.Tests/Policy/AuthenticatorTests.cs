using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Tests.Store;

namespace Sandbox.Guard.Tests.Policy;

/// <summary>Failed authentications against a real store: audited one by one up to the allowance, counted past it.</summary>
public sealed class AuthenticatorTests : TempDatabase
{
    [Fact]
    public async Task RecordAuthFailureAsync_FloodOfAdminRefusals_IsCountedPastTheAllowance()
    {
        var store = await OpenAsync();
        var keys = new RunGuard(store, new GuardOptions { NodeId = "test", AuthFailuresAuditedPerMinute = 5 }, NullAlertSink.Instance, Clock, NullLogger<RunGuard>.Instance).Keys;

        for (var i = 0; i < 100; i++)
        {
            await keys.RecordAuthFailureAsync("admin_refused", "GET /admin/v1/agents", "the admin key is wrong", Ct);
        }

        await keys.FlushAuthFailuresAsync(Ct, force: true);
        var records = await store.QueryAuditAsync(new Sandbox.Guard.Audit.AuditQuery { Kind = "auth" }, Ct);
        records.Select(r => r.Status).ShouldBe(["admin_refused", "admin_refused", "admin_refused", "admin_refused", "admin_refused", "suppressed"]);
        records[^1].Data.ShouldContain("\"admin_refused\":95");
    }
}
