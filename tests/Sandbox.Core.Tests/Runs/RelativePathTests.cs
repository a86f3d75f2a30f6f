using Sandbox.Core.Runs;

namespace Sandbox.Core.Tests.Runs;

public sealed class RelativePathTests
{
    [Theory]
    [InlineData("main.py")]
    [InlineData("data/input.csv")]
    [InlineData("a/b/c.txt")]
    [InlineData("..hidden")]
    public void Check_PlainRelativePath_IsAccepted(string path) => RelativePath.Check(path).ShouldBeNull();

    [Theory]
    [InlineData("..")]
    [InlineData("a/..")]
    [InlineData("/abs")]
    [InlineData("\\abs")]
    [InlineData("a\\b")]
    [InlineData("tab\there")]
    public void Check_EscapingOrOddPath_IsRefused(string path) => RelativePath.Check(path).ShouldNotBeNull();

    [Fact]
    public void Check_TooLong_IsRefused() => RelativePath.Check(new string('a', RelativePath.MaxLength + 1)).ShouldNotBeNull();

    [Fact]
    public void Check_NameOver255Utf8Bytes_IsRefusedNamingTheRange()
    {
        // 128 two-byte characters: within 255 characters, but 256 bytes, past NAME_MAX.
        var problem = RelativePath.Check("data/" + new string('é', 128));

        problem.ShouldNotBeNull().ShouldContain("1 to 255 bytes");
    }

    [Fact]
    public void Check_NameOf255Utf8Bytes_IsAccepted() => RelativePath.Check(new string('é', 127) + "x").ShouldBeNull();
}
