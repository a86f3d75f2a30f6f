using Sandbox.Docker.Recovery;

namespace Sandbox.Docker.Tests.Recovery;

public sealed class ContainerRecoveryTests
{
    [Fact]
    public void ParseTime_DaemonTimeWithNanoseconds_IsParsedToTheTick() =>
        ContainerRecovery.ParseTime("2026-12-06T16:39:12.123456789Z").ShouldBe(new DateTimeOffset(2026, 12, 6, 16, 39, 12, TimeSpan.Zero).AddTicks(1_234_567));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0001-01-01T00:00:00Z")]
    [InlineData("yesterday")]
    public void ParseTime_NeverOrUnreadable_IsNull(string? text) => ContainerRecovery.ParseTime(text).ShouldBeNull();
}
