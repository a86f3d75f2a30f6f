using Sandbox.Guard.Alerts;

namespace Sandbox.Guard.Tests.Alerts;

public sealed class AlertOptionsValidatorTests
{
    [Fact]
    public void Validate_Defaults_NoErrors() => AlertOptionsValidator.Validate(new AlertOptions()).ShouldBeEmpty();

    [Fact]
    public void Validate_EverythingWrong_NamesEveryField()
    {
        var options = new AlertOptions
        {
            WebhookUrl = "ftp://hooks.example.com/x",
            Cooldown = TimeSpan.FromSeconds(-1),
            LoopThreshold = 1,
            LoopWindow = TimeSpan.Zero,
            FailureStreakThreshold = 0,
            SpikeWindow = TimeSpan.FromMinutes(5),
            SpikeBaselineWindow = TimeSpan.FromMinutes(1),
            SpikeFactor = double.NaN,
            SpikeMinRuns = 0,
        };

        AlertOptionsValidator.Validate(options).Select(e => e.Field).ShouldBe(
        [
            "Sandbox:Guard:Alerts:WebhookUrl",
            "Sandbox:Guard:Alerts:Cooldown",
            "Sandbox:Guard:Alerts:LoopThreshold",
            "Sandbox:Guard:Alerts:LoopWindow",
            "Sandbox:Guard:Alerts:FailureStreakThreshold",
            "Sandbox:Guard:Alerts:SpikeBaselineWindow",
            "Sandbox:Guard:Alerts:SpikeFactor",
            "Sandbox:Guard:Alerts:SpikeMinRuns",
        ]);
    }

    [Fact]
    public void ValidateDetectors_IgnoresTheWebhook() =>
        AlertOptionsValidator.ValidateDetectors(new AlertOptions { WebhookUrl = "not a url" }).ShouldBeEmpty();
}
