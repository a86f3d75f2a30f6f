namespace Sandbox.Docker.Resilience.Tests;

public sealed class DockerResilienceOptionsValidatorTests
{
    [Fact]
    public void Validate_Defaults_HasNoErrors()
    {
        DockerResilienceOptionsValidator.Validate(new DockerResilienceOptions()).ShouldBeEmpty();
    }

    [Fact]
    public void Validate_EveryFieldWrong_ReportsEveryFieldAtOnce()
    {
        var options = new DockerResilienceOptions
        {
            CallTimeout = TimeSpan.FromMilliseconds(1),
            MaxRetryAttempts = -1,
            RetryBaseDelay = TimeSpan.FromSeconds(-1),
            RetryMaxDelay = TimeSpan.FromDays(2),
            BreakerFailureRatio = 1.5,
            BreakerMinimumThroughput = 0,
            BreakerSamplingDuration = TimeSpan.FromMilliseconds(100),
            BreakerBreakDuration = TimeSpan.Zero,
        };

        var fields = DockerResilienceOptionsValidator.Validate(options, "docker").Select(e => e.Field);

        fields.ShouldBe(
        [
            "docker:CallTimeout", "docker:MaxRetryAttempts", "docker:RetryBaseDelay", "docker:RetryMaxDelay",
            "docker:BreakerFailureRatio", "docker:BreakerMinimumThroughput", "docker:BreakerSamplingDuration", "docker:BreakerBreakDuration",
        ]);
    }

    [Fact]
    public void Validate_NoRetry_IsAllowed()
    {
        DockerResilienceOptionsValidator.Validate(new DockerResilienceOptions { MaxRetryAttempts = 0 }).ShouldBeEmpty();
    }
}
