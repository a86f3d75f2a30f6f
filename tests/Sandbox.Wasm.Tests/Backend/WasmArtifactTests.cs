using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Artifacts;
using Sandbox.Core.Execution;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Wasm.Backend;
using Sandbox.Wasm.Tests.Differential;

namespace Sandbox.Wasm.Tests.Backend;

/// <summary>Files a WebAssembly guest leaves under its in-memory <c>/tmp/outputs</c> come back as on the Docker backend, within the caps.</summary>
[Trait("Category", "Integration")]
public sealed class WasmArtifactTests
{
    private static readonly ProfileSet s_profiles = ProfileLoader.LoadTree(Path.Join(GuestRequirement.RepositoryRoot, "images"), "profile.json");

    private static RunPipeline Pipeline() => new(s_profiles, [new WasmBackend(TimeProvider.System, NullLogger<WasmBackend>.Instance)], TimeProvider.System, NullLogger<RunPipeline>.Instance);

    [Fact]
    public async Task Run_PythonWritesOutputs_TheyComeBackWithHashAndType()
    {
        GuestRequirement.PythonGuest();

        var result = await Pipeline().RunAsync(
            new RunRequest
            {
                Language = "python",
                Backend = BackendNames.Wasm,
                Code = "import os\nos.makedirs('/tmp/outputs/t', exist_ok=True)\nopen('/tmp/outputs/t/a.csv', 'w').write('x,y\\n1,2\\n')\n" +
                       "open('/tmp/outputs/b.html', 'w').write('<b>hi</b>')\nprint('done')",
            },
            TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.Ok, result.Message + "\n" + result.Stderr);
        result.Stdout.ShouldBe("done\n");
        var artifacts = result.Artifacts.ShouldNotBeNull();
        artifacts.Select(a => (a.Path, a.MediaType)).ShouldBe([("b.html", MediaTypes.OctetStream), ("t/a.csv", MediaTypes.Csv)]);
        artifacts[1].Sha256.ShouldBe(Convert.ToHexStringLower(SHA256.HashData("x,y\n1,2\n"u8)));
        Encoding.UTF8.GetString(artifacts[1].Content.Span).ShouldBe("x,y\n1,2\n");
        result.ArtifactsDropped.ShouldBeNull();
    }

    [Fact]
    public async Task Run_PythonFloodsOutputs_IsCappedAndNamesTheDrops()
    {
        GuestRequirement.PythonGuest();
        s_profiles.TryGet("python-wasm", out var profile).ShouldBeTrue();

        var result = await Pipeline().RunAsync(
            new RunRequest
            {
                Language = "python",
                Backend = BackendNames.Wasm,
                Code = "for i in range(100):\n    open(f'/tmp/outputs/f{i:03}.txt', 'w').write(str(i))\nopen('/tmp/outputs/big.bin', 'wb').write(b'z' * (5 * 1024 * 1024))\nprint('ok')",
            },
            TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.Ok, result.Message + "\n" + result.Stderr);
        result.Artifacts.ShouldNotBeNull().Count.ShouldBe(profile!.Artifacts.MaxFiles);
        var dropped = result.ArtifactsDropped.ShouldNotBeNull();
        dropped.ShouldContain(d => d.Path == "big.bin" && d.Reason == DropReasons.FileTooLarge);
        dropped.ShouldContain(d => d.Reason == DropReasons.TooManyFiles);
        dropped.Count.ShouldBeLessThanOrEqualTo(ArtifactGatherer.MaxDroppedListed + 1);
    }
}
