using System.Buffers.Binary;
using System.Text;
using Sandbox.Core.Artifacts;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Wasm.Backend;

namespace Sandbox.Wasm.Tests.Backend;

/// <summary>The service's own check of the files a worker sends: a worker is not trusted past its frames.</summary>
public sealed class WorkerArtifactsTests
{
    [Fact]
    public void Frames_WholeFile_IsKeptWithTheServicesOwnHash()
    {
        var artifacts = new WorkerArtifacts(ArtifactLimits.Default);

        artifacts.Begin(Begin("t/a.csv", 4)).ShouldBeTrue();
        artifacts.Data("1,2\n"u8).ShouldBeTrue();
        var (kept, dropped) = artifacts.Complete(null);

        var file = kept.ShouldNotBeNull().ShouldHaveSingleItem();
        (file.Path, file.MediaType, file.SizeBytes).ShouldBe(("t/a.csv", MediaTypes.Csv, 4L));
        dropped.ShouldBeNull();
    }

    [Fact]
    public void Frames_MoreBytesThanDeclared_BreakTheProtocol()
    {
        var artifacts = new WorkerArtifacts(ArtifactLimits.Default);

        artifacts.Begin(Begin("a.txt", 2)).ShouldBeTrue();

        artifacts.Data("abc"u8).ShouldBeFalse();
    }

    [Fact]
    public void Frames_UnsafeNameOrPastTheCaps_AreDroppedHere_AndAShortFileIsIncomplete()
    {
        var artifacts = new WorkerArtifacts(new ArtifactLimits(MaxFiles: 2, MaxFileBytes: 10, MaxTotalBytes: 100));

        artifacts.Begin(Begin("../etc/passwd", 1)).ShouldBeTrue();
        artifacts.Data("x"u8).ShouldBeTrue();
        artifacts.Begin(Begin("big.bin", 11)).ShouldBeTrue();
        artifacts.Data(new byte[11]).ShouldBeTrue();
        artifacts.Begin(Begin("short.txt", 5)).ShouldBeTrue();
        artifacts.Data("ab"u8).ShouldBeTrue();
        var (kept, dropped) = artifacts.Complete([new DroppedArtifact { Path = "x\u001b[2J", Reason = DropReasons.TooManyFiles, Detail = "from the worker" }]);

        kept.ShouldBeNull();
        dropped.ShouldNotBeNull().Select(d => (d.Path, d.Reason)).ShouldBe([
            ("../etc/passwd", DropReasons.UnsafePath), ("big.bin", DropReasons.FileTooLarge), ("short.txt", DropReasons.Incomplete),
            ("x\\u{001B}[2J", DropReasons.TooManyFiles)]);
    }

    private static byte[] Begin(string path, long size)
    {
        var name = Encoding.UTF8.GetBytes(path);
        var payload = new byte[8 + name.Length];
        BinaryPrimitives.WriteInt64LittleEndian(payload, size);
        name.CopyTo(payload, 8);
        return payload;
    }
}
