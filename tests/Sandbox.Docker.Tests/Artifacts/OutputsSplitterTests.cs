using System.Text;
using Sandbox.Docker.Artifacts;

namespace Sandbox.Docker.Tests.Artifacts;

public sealed class OutputsSplitterTests
{
    private static readonly byte[] s_marker = OutputsCommand.Marker("abc123");

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Feed_AnyChunking_SplitsAtTheMarkerOnly(int chunkSize)
    {
        // Starts of the marker that do not go on, a marker with another nonce, then the real one.
        var stream = Bytes("out\u001e\u001eSANDBOX\u001eSANDBOX-OUTPUTS other\nmore\u001e") .Concat(s_marker).Concat(Bytes("TAR\u001eDATA")).ToArray();

        var (program, outputs) = Split(stream, chunkSize);

        program.ShouldBe("out\u001e\u001eSANDBOX\u001eSANDBOX-OUTPUTS other\nmore\u001e");
        outputs.ShouldBe("TAR\u001eDATA");
    }

    [Fact]
    public void Flush_StreamEndsInsideAMarker_GivesTheHeldBytesToTheProgram()
    {
        var (program, outputs) = Split([.. Bytes("x"), .. s_marker.AsSpan(0, 5)], 2);

        program.ShouldBe("x" + Encoding.ASCII.GetString(s_marker, 0, 5));
        outputs.ShouldBeEmpty();
    }

    private static (string Program, string Outputs) Split(byte[] stream, int chunkSize)
    {
        var splitter = new OutputsSplitter(s_marker);
        var program = new List<byte>();
        var outputs = new List<byte>();
        for (var i = 0; i < stream.Length; i += chunkSize)
        {
            splitter.Feed(stream.AsSpan(i, Math.Min(chunkSize, stream.Length - i)), b => program.AddRange(b.ToArray()), b => outputs.AddRange(b.ToArray()));
        }

        splitter.Flush(b => program.AddRange(b.ToArray()));
        return (Encoding.UTF8.GetString([.. program]), Encoding.UTF8.GetString([.. outputs]));
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
