using System.Buffers.Binary;
using System.Security.Cryptography;
using Sandbox.Core.Artifacts;
using Sandbox.Core.Runs;
using Sandbox.Docker.IntegrationTests.Support;

namespace Sandbox.Docker.IntegrationTests.Backend;

/// <summary>Files left under <c>/tmp/outputs</c> come back with the result, in a real container, within the profile's caps.</summary>
[Trait("Category", "Integration")]
public sealed class ArtifactTests(SandboxFixture sandbox)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_CsvInOutputs_ComesBackWithItsHashAndStdoutIsUntouched()
    {
        var result = await sandbox.RunAsync(new RunRequest
        {
            Language = "python",
            Code = "import os\nos.makedirs('/tmp/outputs/tables', exist_ok=True)\n" +
                   "open('/tmp/outputs/tables/squares.csv', 'w').write(''.join(f'{i},{i*i}\\n' for i in range(100)))\nprint('done')",
        }, Ct);

        result.Status.ShouldBe(RunStatus.Ok, result.Message + result.Stderr);
        result.Stdout.ShouldBe("done\n");
        var csv = result.Artifacts.ShouldHaveSingleItem();
        var expected = string.Concat(Enumerable.Range(0, 100).Select(i => $"{i},{i * i}\n"));
        csv.Path.ShouldBe("tables/squares.csv");
        csv.MediaType.ShouldBe(MediaTypes.Csv);
        csv.SizeBytes.ShouldBe(expected.Length);
        csv.Sha256.ShouldBe(Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(expected))));
        System.Text.Encoding.UTF8.GetString(csv.Content.Span).ShouldBe(expected);
        result.ArtifactsDropped.ShouldBeNull();
    }

    [Fact]
    public async Task Run_NothingInOutputs_HasNoArtifactsAndKeepsExitCodeAndStdin()
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = "bash", Code = "cat; printf '\\036SANDBOX-OUTPUTS 00\\n'; exit 3", Stdin = "in\n" }, Ct);

        result.Status.ShouldBe(RunStatus.RuntimeError);
        result.ExitCode.ShouldBe(3);
        // A marker without the run's nonce is only the program's output.
        result.Stdout.ShouldBe("in\n\u001eSANDBOX-OUTPUTS 00\n");
        result.Artifacts.ShouldBeNull();
    }

    [Fact]
    public async Task Run_MatplotlibFigureLeftOpen_ComesBackAsPng()
    {
        var result = await sandbox.RunAsync(new RunRequest
        {
            Language = "python",
            Code = "import matplotlib.pyplot as plt\nplt.figure(figsize=(4, 3), dpi=100)\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.show()\n" +
                   "plt.figure(figsize=(2, 2), dpi=50)\nplt.bar([1, 2], [3, 4])\n",
        }, Ct);

        result.Status.ShouldBe(RunStatus.Ok, result.Message + result.Stderr);
        result.Artifacts.ShouldNotBeNull();
        result.Artifacts.Select(a => a.Path).ShouldBe(["figure-1.png", "figure-2.png"]);
        PngSize(result.Artifacts[0]).ShouldBe((400, 300));
        PngSize(result.Artifacts[1]).ShouldBe((100, 100));
    }

    [Fact]
    public async Task Run_ArtifactFlood_IsCappedAndNothingUnsafeComesBack()
    {
        var code = await File.ReadAllTextAsync(Path.Join(RepositoryPaths.Fixtures, "Hostile", "artifact_flood.sh"), Ct);

        var result = await sandbox.RunAsync(new RunRequest { Language = "bash", Code = code }, Ct);

        result.Status.ShouldBe(RunStatus.Ok, result.Message + result.Stderr);
        var artifacts = result.Artifacts.ShouldNotBeNull();
        var dropped = result.ArtifactsDropped.ShouldNotBeNull();
        sandbox.Profiles.TryGet("bash", out var bash).ShouldBeTrue();
        var limits = bash!.Artifacts;
        artifacts.Count.ShouldBe(limits.MaxFiles);
        artifacts.Sum(a => a.SizeBytes).ShouldBeLessThanOrEqualTo(limits.MaxTotalBytes);
        // The symlink to /etc/passwd is named and dropped, never read; no artifact holds passwd's bytes.
        dropped.ShouldContain(d => d.Path == "1-passwd" && d.Reason == DropReasons.NotARegularFile);
        artifacts.Select(a => System.Text.Encoding.UTF8.GetString(a.Content.ToArray())).ShouldNotContain(text => text.Contains("root:x:0:0", StringComparison.Ordinal));
        dropped.ShouldContain(d => d.Path == "2-huge.bin" && d.Reason == DropReasons.FileTooLarge);
        dropped.ShouldContain(d => d.Path == "3-new\\u{000A}line" && d.Reason == DropReasons.UnsafePath);
        dropped.ShouldContain(d => d.Path == "4-pipe" && d.Reason == DropReasons.NotARegularFile);
        dropped.ShouldContain(d => d.Path == "5-root" && d.Reason == DropReasons.NotARegularFile);
        dropped.ShouldContain(d => d.Reason == DropReasons.TooManyFiles);
        dropped[^1].Reason.ShouldBe(DropReasons.NotListed);
        dropped.Count.ShouldBeLessThanOrEqualTo(ArtifactGatherer.MaxDroppedListed + 1);
        // The .html file comes back only as bytes to download, never as a type a browser renders.
        artifacts.ShouldContain(a => a.Path == "0-page.html" && a.MediaType == MediaTypes.OctetStream);
        artifacts.ShouldAllBe(a => RelativePath.Check(a.Path) == null);
    }

    /// <summary>Width and height from a PNG's IHDR chunk, after checking the signature.</summary>
    private static (int Width, int Height) PngSize(RunArtifact png)
    {
        png.MediaType.ShouldBe(MediaTypes.Png);
        var bytes = png.Content.Span;
        bytes[..8].SequenceEqual((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]).ShouldBeTrue();
        System.Text.Encoding.ASCII.GetString(bytes.Slice(12, 4)).ShouldBe("IHDR");
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.Slice(16, 4)), BinaryPrimitives.ReadInt32BigEndian(bytes.Slice(20, 4)));
    }
}
