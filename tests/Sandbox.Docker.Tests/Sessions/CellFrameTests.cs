using System.Text;
using Sandbox.Core.Runs;
using Sandbox.Docker.Sessions;

namespace Sandbox.Docker.Tests.Sessions;

public sealed class CellFrameTests
{
    [Fact]
    public void EncodeForShell_CodeStdinAndFiles_EachCarriesItsByteLength()
    {
        var request = new RunRequest
        {
            Language = "bash",
            Code = "echo é\n",
            Stdin = "in",
            Files = [new InputFile { Path = "dir/a b.txt", Content = "ü" }, new InputFile { Path = "empty", Content = "" }],
        };

        var frame = Encoding.UTF8.GetString(CellFrame.EncodeForShell("n0nce", request, outputs: true));

        // "é" and "ü" are two bytes each: the lengths count bytes, which is what head -c reads.
        frame.ShouldBe("CELL n0nce 1 8 2 2\necho é\nin2 dir/a b.txt\nü0 empty\n");
    }

    [Fact]
    public void EncodeForShell_NoOutputsNoStdinNoFiles_SaysSo()
    {
        var frame = Encoding.UTF8.GetString(CellFrame.EncodeForShell("n", new RunRequest { Language = "bash", Code = "" }));
        frame.ShouldBe("CELL n 0 0 0 0\n");
    }

    [Fact]
    public void EncodeForShell_CodeWithANul_DropsItAsBashWouldWhenSourcingAndCountsTheRest()
    {
        var frame = Encoding.UTF8.GetString(CellFrame.EncodeForShell("n", new RunRequest { Language = "bash", Code = "echo a\0b" }));
        frame.ShouldBe("CELL n 0 7 0 0\necho ab");
    }

    [Fact]
    public void EncodeForShell_PathWithANewline_IsRefusedRatherThanDesynchronisingTheFrames()
    {
        var request = new RunRequest { Language = "bash", Code = "", Files = [new InputFile { Path = "a\nCELL x", Content = "" }] };
        Should.Throw<ArgumentException>(() => CellFrame.EncodeForShell("n", request));
    }
}
