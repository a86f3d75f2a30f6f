using System.Text.Json;

namespace Sandbox.Server.Http.Tests;

public sealed class ServerJsonContextTests
{
    [Fact]
    public void Deserialize_DuplicateKey_ThrowsRatherThanLastWins()
    {
        // The source-generated context honours AllowDuplicateProperties = false: whoever binds with it cannot be fooled.
        Should.Throw<JsonException>(() => JsonSerializer.Deserialize("{\"language\": \"python\", \"code\": \"a\", \"code\": \"b\"}", ServerJsonContext.Default.RunRequestBody));
    }

    [Theory]
    [InlineData("{\"limits\": {\"wallTimeMs\": 1}, \"limits\": {}}", "limits")]
    [InlineData("{\"files\": [{\"path\": \"a\"}, {\"path\": \"a\", \"path\": \"b\"}]}", "files[1].path")]
    [InlineData("{\"a\": [[1], {\"b\": \"\\udc00\"}]}", "a[1].b")]
    [InlineData("{\"a\\ud800\": 1}", "a\\ud800")]
    public void Check_DuplicateOrLoneSurrogate_NamesTheField(string body, string field)
    {
        var problem = JsonBodyValidator.Check(System.Text.Encoding.UTF8.GetBytes(body), "{}");

        problem.ShouldNotBeNull().Errors.ShouldNotBeNull()[0].Field.ShouldBe(field);
    }

    [Fact]
    public void Check_SameNameInSiblingObjects_IsFine()
    {
        JsonBodyValidator.Check("{\"files\": [{\"path\": \"a\"}, {\"path\": \"b\"}], \"limits\": {\"path\": 1}}"u8, "{}").ShouldBeNull();
    }
}
