using Sandbox.Guard.Policy;

namespace Sandbox.Guard.Tests.Policy;

public sealed class AuditWindowTests
{
    private static readonly DateTimeOffset s_t0 = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TryAdmit_PastTheAllowance_CountsByCode_AndTheCountIsTakenOnceTheMinuteIsOver()
    {
        var window = new AuditWindow();

        var admitted = Enumerable.Range(0, 5).Select(i => window.TryAdmit(s_t0.AddSeconds(i), i % 2 == 0 ? "unknown_key" : "malformed_key", perWindow: 2)).ToList();

        admitted.ShouldBe([true, true, false, false, false]);
        window.TakeSuppressed(s_t0.AddSeconds(59), force: false).ShouldBeNull("the minute is not over yet");
        var taken = window.TakeSuppressed(s_t0.AddSeconds(60), force: false).ShouldNotBeNull();
        taken.Count.ShouldBe(3);
        taken.ByCode.ShouldBe(new Dictionary<string, int> { ["unknown_key"] = 2, ["malformed_key"] = 1 }, ignoreOrder: true);
        taken.WindowStart.ShouldBe(s_t0);
        taken.WindowEnd.ShouldBe(s_t0.AddMinutes(1));
        window.TakeSuppressed(s_t0.AddSeconds(61), force: false).ShouldBeNull("a count is taken once");
    }

    [Fact]
    public void TryAdmit_InTheNextMinute_HasTheFullAllowanceAgain()
    {
        var window = new AuditWindow();
        window.TryAdmit(s_t0, "unknown_key", perWindow: 1).ShouldBeTrue();
        window.TryAdmit(s_t0.AddSeconds(30), "unknown_key", perWindow: 1).ShouldBeFalse();

        window.TakeSuppressed(s_t0.AddMinutes(1), force: false).ShouldNotBeNull().Count.ShouldBe(1);
        window.TryAdmit(s_t0.AddMinutes(1), "unknown_key", perWindow: 1).ShouldBeTrue();
    }

    [Fact]
    public void TakeSuppressed_Forced_TakesTheCurrentMinutesCount()
    {
        var window = new AuditWindow();
        window.TryAdmit(s_t0, "missing_key", perWindow: 1);
        window.TryAdmit(s_t0, "missing_key", perWindow: 1);

        window.TakeSuppressed(s_t0.AddSeconds(1), force: true).ShouldNotBeNull().Count.ShouldBe(1);
        window.TakeSuppressed(s_t0.AddSeconds(1), force: true).ShouldBeNull("nothing suppressed is nothing to write");
    }
}
