using System.Formats.Tar;
using System.Text;
using Sandbox.Core.Artifacts;
using Sandbox.Core.Limits;
using Sandbox.Docker.Artifacts;

namespace Sandbox.Docker.Tests.Artifacts;

/// <summary>The tar a program could forge (it knows the format, if not the nonce): names, links and framing it controls.</summary>
public sealed class TarArtifactReaderTests
{
    [Fact]
    public void Feed_ForgedNames_KeepsOnlyPlainRelativeFiles()
    {
        var tar = Tar(w =>
        {
            w.WriteEntry(File("./ok.txt", "fine"));
            w.WriteEntry(File("../escape.txt", "x"));
            w.WriteEntry(File("/etc/cron.d/x", "x"));
            w.WriteEntry(File("./a/../../b", "x"));
            w.WriteEntry(File("./" + new string('n', 300), "long name"));
            w.WriteEntry(new GnuTarEntry(TarEntryType.SymbolicLink, "./passwd") { LinkName = "/etc/passwd" });
            w.WriteEntry(new GnuTarEntry(TarEntryType.HardLink, "./hard") { LinkName = "./ok.txt" });
            w.WriteEntry(new GnuTarEntry(TarEntryType.Directory, "./sub/"));
            w.WriteEntry(File("./sub/deep.csv", "1,2\n"));
        });

        var gatherer = Read(tar, 1);

        gatherer.Artifacts.Select(a => (a.Path, Encoding.UTF8.GetString(a.Content.Span))).ShouldBe([("ok.txt", "fine"), ("sub/deep.csv", "1,2\n")]);
        gatherer.Dropped.Select(d => d.Reason).ShouldBe([
            DropReasons.UnsafePath, DropReasons.UnsafePath, DropReasons.UnsafePath, DropReasons.UnsafePath,
            DropReasons.NotARegularFile, DropReasons.NotARegularFile]);
    }

    [Fact]
    public void Feed_HugeEntry_IsSkippedWithoutKeepingItsBytes()
    {
        var tar = Tar(w =>
        {
            w.WriteEntry(File("./huge.bin", new string('z', 100_000)));
            w.WriteEntry(File("./small.txt", "s"));
        });

        var gatherer = Read(tar, 4096, new ArtifactLimits { MaxFileBytes = 1000 });

        gatherer.Artifacts.ShouldHaveSingleItem().Path.ShouldBe("small.txt");
        gatherer.Dropped.ShouldHaveSingleItem().Reason.ShouldBe(DropReasons.FileTooLarge);
    }

    [Fact]
    public void Feed_CorruptHeader_StopsAndKeepsWhatCameWhole()
    {
        var tar = Tar(w =>
        {
            w.WriteEntry(File("./first.txt", "1"));
            w.WriteEntry(File("./second.txt", "2"));
        });
        tar[1024 + 150] ^= 0x01; // the second header's checksum no longer matches

        var gatherer = Read(tar, 512);

        gatherer.Artifacts.ShouldHaveSingleItem().Path.ShouldBe("first.txt");
        gatherer.Dropped.ShouldHaveSingleItem().Reason.ShouldBe(DropReasons.Incomplete);
    }

    [Fact]
    public void Complete_StreamCutInsideAFile_DropsItAsIncomplete()
    {
        var tar = Tar(w => w.WriteEntry(File("./cut.txt", new string('c', 2000))));

        var gatherer = Read(tar.AsSpan(0, 1000).ToArray(), 100);

        gatherer.Artifacts.ShouldBeEmpty();
        var dropped = gatherer.Dropped.ShouldHaveSingleItem();
        (dropped.Path, dropped.Reason).ShouldBe(("cut.txt", DropReasons.Incomplete));
    }

    private static ArtifactGatherer Read(byte[] tar, int chunkSize, ArtifactLimits? limits = null)
    {
        var gatherer = new ArtifactGatherer(limits ?? ArtifactLimits.Default);
        var reader = new TarArtifactReader(gatherer);
        for (var i = 0; i < tar.Length; i += chunkSize)
        {
            reader.Feed(tar.AsSpan(i, Math.Min(chunkSize, tar.Length - i)));
        }

        reader.Complete();
        return gatherer;
    }

    private static GnuTarEntry File(string name, string content) =>
        new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };

    private static byte[] Tar(Action<TarWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Gnu, leaveOpen: true))
        {
            write(writer);
        }

        return buffer.ToArray();
    }
}
