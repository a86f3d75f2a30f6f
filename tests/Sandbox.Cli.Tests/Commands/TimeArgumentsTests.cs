using Sandbox.Cli.Commands;

namespace Sandbox.Cli.Tests.Commands;

public sealed class TimeArgumentsTests
{
    [Theory]
    [InlineData("90d", 90 * 24 * 60)]
    [InlineData("2h", 120)]
    [InlineData("30m", 30)]
    [InlineData("99999m", 99999)]
    public void TryParseDuration_DaysHoursMinutes_Parse(string text, int minutes)
    {
        TimeArguments.TryParseDuration(text, out var duration).ShouldBeTrue();
        duration.ShouldBe(TimeSpan.FromMinutes(minutes));
    }

    [Theory]
    [InlineData("")]
    [InlineData("d")]
    [InlineData("0d")]
    [InlineData("-1d")]
    [InlineData("+1d")]
    [InlineData("1.5h")]
    [InlineData("1 d")]
    [InlineData("1w")]
    [InlineData("1000000d")]
    [InlineData("P1D")]
    public void TryParseDuration_Malformed_IsRefused(string text) =>
        TimeArguments.TryParseDuration(text, out _).ShouldBeFalse();

    [Fact]
    public void TimeBound_Ago_ResolvesAgainstTheClock()
    {
        var time = new FixedTime(new DateTimeOffset(2025, 1, 31, 12, 0, 0, TimeSpan.Zero));

        new TimeBound(null, TimeSpan.FromHours(2)).Resolve(time).ShouldBe(new DateTimeOffset(2025, 1, 31, 10, 0, 0, TimeSpan.Zero));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
