using Sandbox.Core.Artifacts;
using Sandbox.Core.Limits;

namespace Sandbox.Core.Tests.Artifacts;

public sealed class ArtifactGathererTests
{
    private static readonly ArtifactLimits s_limits = new() { MaxFiles = 2, MaxFileBytes = 10, MaxTotalBytes = 15 };

    [Fact]
    public void Offer_WithinCaps_KeepsFileWithHashAndSniffedType()
    {
        var gatherer = new ArtifactGatherer(s_limits);

        gatherer.Offer("out/a.csv", ArtifactEntryKind.File, 4).ShouldBeTrue();
        gatherer.Add("out/a.csv", "1,2\n"u8.ToArray());

        var artifact = gatherer.Artifacts.ShouldHaveSingleItem();
        artifact.SizeBytes.ShouldBe(4);
        artifact.MediaType.ShouldBe(MediaTypes.Csv);
        artifact.Sha256.ShouldBe("52186c933993da4082b3cdc7c40bb4bf735b391ff54a2ef78c037dda6c38a680");
        gatherer.Dropped.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("a/../../b")]
    [InlineData("new\nline")]
    public void Offer_UnsafeName_IsDroppedAsUnsafePath(string path)
    {
        var gatherer = new ArtifactGatherer(s_limits);

        gatherer.Offer(path, ArtifactEntryKind.File, 1).ShouldBeFalse();

        gatherer.Dropped.ShouldHaveSingleItem().Reason.ShouldBe(DropReasons.UnsafePath);
        gatherer.Dropped[0].Path.ShouldNotContain("\n");
    }

    [Fact]
    public void Offer_SymlinkAndPipe_AreDroppedUnread()
    {
        var gatherer = new ArtifactGatherer(s_limits);

        gatherer.Offer("passwd", ArtifactEntryKind.SymbolicLink, 0).ShouldBeFalse();
        gatherer.Offer("pipe", ArtifactEntryKind.Other, 0).ShouldBeFalse();
        gatherer.Offer("dir", ArtifactEntryKind.Directory, 0).ShouldBeFalse();

        gatherer.Dropped.Select(d => (d.Path, d.Reason)).ShouldBe([("passwd", DropReasons.NotARegularFile), ("pipe", DropReasons.NotARegularFile)]);
    }

    [Fact]
    public void Offer_PastEachCap_DropsWithTheCapNamed()
    {
        var gatherer = new ArtifactGatherer(s_limits);

        gatherer.Offer("big", ArtifactEntryKind.File, 11).ShouldBeFalse();
        gatherer.Offer("a", ArtifactEntryKind.File, 10).ShouldBeTrue();
        gatherer.Offer("b", ArtifactEntryKind.File, 6).ShouldBeFalse();
        gatherer.Offer("c", ArtifactEntryKind.File, 5).ShouldBeTrue();
        gatherer.Offer("d", ArtifactEntryKind.File, 0).ShouldBeFalse();

        gatherer.Dropped.Select(d => d.Reason).ShouldBe([DropReasons.FileTooLarge, DropReasons.TotalTooLarge, DropReasons.TooManyFiles]);
        gatherer.Dropped[0].Detail.ShouldContain("artifacts.maxFileBytes");
        gatherer.Dropped[1].Detail.ShouldContain("artifacts.maxTotalBytes");
        gatherer.Dropped[2].Detail.ShouldContain("artifacts.maxFiles");
    }

    [Fact]
    public void Offer_SameNameTwice_KeepsTheFirstOnly()
    {
        var gatherer = new ArtifactGatherer(s_limits);

        gatherer.Offer("a", ArtifactEntryKind.File, 1).ShouldBeTrue();
        gatherer.Offer("a", ArtifactEntryKind.File, 1).ShouldBeFalse();
    }

    [Fact]
    public void Dropped_Flood_ListsAFixedNumberAndSumsUpTheRest()
    {
        var gatherer = new ArtifactGatherer(new ArtifactLimits { MaxFiles = 0 });

        for (var i = 0; i < 10_000; i++)
        {
            gatherer.Offer($"f{i}", ArtifactEntryKind.File, 1);
        }

        gatherer.Dropped.Count.ShouldBe(ArtifactGatherer.MaxDroppedListed + 1);
        gatherer.Dropped[^1].Reason.ShouldBe(DropReasons.NotListed);
        gatherer.Dropped[^1].Detail.ShouldStartWith($"{10_000 - ArtifactGatherer.MaxDroppedListed} more files");
    }
}
