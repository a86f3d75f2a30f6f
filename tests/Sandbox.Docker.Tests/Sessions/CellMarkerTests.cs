using System.Text;
using Sandbox.Docker.Sessions;

namespace Sandbox.Docker.Tests.Sessions;

public sealed class CellMarkerTests
{
    private const string Nonce = "0123456789abcdef";

    [Fact]
    public void Feed_MarkerInOneChunk_ReturnsTheOutputBeforeItAndItsCode()
    {
        var marker = new CellMarker(Nonce);
        var output = marker.Feed(Bytes("hello\n\0SBX-END " + Nonce + " 3\n"));
        Encoding.ASCII.GetString(output).ShouldBe("hello\n");
        marker.Seen.ShouldBeTrue();
        marker.Code.ShouldBe(3);
        marker.Feed(Bytes("after")).ShouldBeEmpty();
    }

    [Fact]
    public void Feed_MarkerSplitByteByByte_HoldsBackOnlyWhatCouldBeTheMarker()
    {
        var marker = new CellMarker(Nonce);
        var kept = new List<byte>();
        foreach (var b in Bytes("out\0SBX\0SBX-END " + Nonce + " 0\n"))
        {
            kept.AddRange(marker.Feed([b]));
        }

        Encoding.ASCII.GetString([.. kept]).ShouldBe("out\0SBX");
        marker.Seen.ShouldBeTrue();
        marker.Code.ShouldBe(0);
    }

    [Fact]
    public void Feed_AnotherCellsNonce_IsOutput()
    {
        var marker = new CellMarker(Nonce);
        var output = marker.Feed(Bytes("\0SBX-END ffffffffffffffff 0\nmore"));
        marker.Seen.ShouldBeFalse();
        Encoding.ASCII.GetString([.. output, .. marker.Flush()]).ShouldBe("\0SBX-END ffffffffffffffff 0\nmore");
    }

    [Fact]
    public void Feed_MarkerWithoutANumber_EndsTheCellAsAFailure()
    {
        var marker = new CellMarker(Nonce);
        marker.Feed(Bytes("\0SBX-END " + Nonce + " x\n"));
        marker.Seen.ShouldBeTrue();
        marker.Code.ShouldBe(1);
    }

    [Fact]
    public void Flush_StreamEndedInsideAPossibleMarker_GivesItBackAsOutput()
    {
        var marker = new CellMarker(Nonce);
        marker.Feed(Bytes("tail\0SBX-E")).ShouldBe(Bytes("tail"));
        marker.Flush().ShouldBe(Bytes("\0SBX-E"));
    }

    private static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);
}
