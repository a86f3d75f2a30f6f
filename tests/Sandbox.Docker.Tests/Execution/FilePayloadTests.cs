using System.Text;
using Sandbox.Docker.Execution;

namespace Sandbox.Docker.Tests.Execution;

public sealed class FilePayloadTests
{
    [Fact]
    public void Encode_TwoFiles_WritesMagicCountAndLengthPrefixedFiles()
    {
        var bytes = FilePayload.Encode([
            new PayloadFile("main.py", "print(1)\n"u8.ToArray(), 0b110_100_100),
            new PayloadFile("data/empty.txt", Array.Empty<byte>(), 0b111_101_101),
        ]);

        Encoding.UTF8.GetString(bytes).ShouldBe("SANDBOX-FILES 1\n2\n9 644 main.py\nprint(1)\n0 755 data/empty.txt\n");
    }

    [Fact]
    public void Encode_BinaryContent_IsCopiedByteForByte()
    {
        byte[] content = [0, 10, 255, 13, 10];

        var bytes = FilePayload.Encode([new PayloadFile("a.out", content, 0b111_101_101)]);

        bytes[^5..].ShouldBe(content);
    }

    [Fact]
    public void Encode_PathWithNewline_IsRefused() =>
        Should.Throw<ArgumentException>(() => FilePayload.Encode([new PayloadFile("a\nb", Array.Empty<byte>(), 0b110_100_100)]));
}
