using Sandbox.Core.Runs;
using Sandbox.Docker.IntegrationTests.Support;

namespace Sandbox.Docker.IntegrationTests.Backend;

/// <summary>Each Docker language image (a folder of <c>images/</c> with a Dockerfile) passes its own self-test through the backend.</summary>
[Trait("Category", "Integration")]
public sealed class ImageSelfTests(SandboxFixture sandbox)
{
    public static TheoryData<string> Languages() =>
        [.. Directory.EnumerateDirectories(RepositoryPaths.Images)
            .Where(d => File.Exists(Path.Join(d, "Dockerfile")))
            .Select(d => Path.GetFileName(d))
            .Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Languages))]
    public async Task SelfTest_Image_PrintsExactlyTheExpectedOutput(string language)
    {
        var dir = Path.Join(RepositoryPaths.Images, language);
        var source = Directory.EnumerateFiles(dir, "selftest.*").Single(f => !f.EndsWith(".expected", StringComparison.Ordinal));
        var expected = await File.ReadAllTextAsync(Path.Join(dir, "selftest.expected"), TestContext.Current.CancellationToken);

        var result = await sandbox.RunAsync(
            new RunRequest { Language = language, Code = await File.ReadAllTextAsync(source, TestContext.Current.CancellationToken) },
            TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.Ok, result.Message + "\n" + result.Stderr);
        result.Stdout.ShouldBe(expected);
    }
}
