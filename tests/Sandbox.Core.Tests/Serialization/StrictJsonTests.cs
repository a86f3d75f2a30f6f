using System.Text;
using Sandbox.Core.Serialization;

namespace Sandbox.Core.Tests.Serialization;

public sealed class StrictJsonTests
{
    [Theory]
    [InlineData("{\"limits\": {\"wallTimeMs\": 1}, \"limits\": {}}", "limits")]
    [InlineData("{\"files\": [{\"path\": \"a\"}, {\"path\": \"a\", \"path\": \"b\"}]}", "files[1].path")]
    [InlineData("{\"a\": [[1], {\"b\": \"\\udc00\"}]}", "a[1].b")]
    [InlineData("{\"a\\ud800\": 1}", "a\\ud800")]
    public void Check_DuplicateOrLoneSurrogate_NamesTheField(string body, string field)
    {
        var problem = StrictJson.Check(Encoding.UTF8.GetBytes(body));

        problem.ShouldNotBeNull().Field.ShouldBe(field);
    }

    [Fact]
    public void Check_RawBytesThatAreNotUtf8InAKey_NamesNoCrash()
    {
        var problem = StrictJson.Check([.. "{\""u8, 0xC3, 0x28, .. "\": 1}"u8]);

        problem.ShouldNotBeNull().Message.ShouldContain("not valid Unicode");
    }

    [Theory]
    [InlineData("{\"a\": 1")]
    [InlineData("{\"a\": 1} /* trailing */")]
    [InlineData("")]
    public void Check_NotJson_IsASyntaxErrorWithoutAField(string body)
    {
        var problem = StrictJson.Check(Encoding.UTF8.GetBytes(body));

        problem.ShouldNotBeNull().Field.ShouldBeNull();
        problem.Message.ShouldStartWith("is not valid JSON (line 1");
    }

    [Fact]
    public void Check_SameNameInSiblingObjects_IsFine()
    {
        StrictJson.Check("{\"files\": [{\"path\": \"a\"}, {\"path\": \"b\"}], \"limits\": {\"path\": 1}}"u8).ShouldBeNull();
    }
}
