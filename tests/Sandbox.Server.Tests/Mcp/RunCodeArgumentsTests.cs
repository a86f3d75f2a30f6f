using System.Text.Json;
using Sandbox.Server.Mcp;

namespace Sandbox.Server.Tests.Mcp;

/// <summary>The MCP side of the one run-request reader (the reader itself is tested in Sandbox.Core.Tests).</summary>
public sealed class RunCodeArgumentsTests
{
    private static Dictionary<string, JsonElement> Arguments(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    [Fact]
    public void Parse_AllArguments_BuildsTheRequest()
    {
        var (request, errors) = RunCodeArguments.Parse(Arguments("""
            {"language":"python","code":"print(input())","stdin":"hi","purpose":"echo a line","backend":"docker",
             "files":[{"path":"data/a.txt","content":"x"}],"profile":"python-big","limits":{"wallTimeMs":1000,"pids":8}}
            """));

        errors.ShouldBeEmpty();
        request.ShouldNotBeNull();
        request.Language.ShouldBe("python");
        request.Backend.ShouldBe("docker");
        request.Files!.Single().Path.ShouldBe("data/a.txt");
        request.Limits!.WallTimeMs.ShouldBe(1000);
        request.Limits.Pids.ShouldBe(8);
    }

    [Fact]
    public void Parse_NullFileEntryAndDuplicateInsideLimits_NameTheField()
    {
        // As over HTTP (issue 11): the SDK's dictionary keeps a nested key given twice, and the reader refuses it.
        var (request, errors) = RunCodeArguments.Parse(Arguments("""{"language":"python","code":"1","limits":{"pids":1,"pids":2}}"""));
        request.ShouldBeNull();
        errors.ShouldHaveSingleItem().Field.ShouldBe("limits.pids");

        (_, errors) = RunCodeArguments.Parse(Arguments("""{"language":"python","code":"1","files":[null]}"""));
        errors.ShouldHaveSingleItem().Field.ShouldBe("files[0]");
    }

    [Fact]
    public void Parse_RawArgumentsWithADuplicateKey_NamesIt()
    {
        var (_, errors) = RunCodeArguments.Parse("""{"language":"python","language":"bash","code":"1"}"""u8.ToArray());

        errors.ShouldHaveSingleItem().Field.ShouldBe("language");
    }

    [Fact]
    public void Parse_NullArguments_AsksForTheRequiredOnes()
    {
        var (_, errors) = RunCodeArguments.Parse((IDictionary<string, JsonElement>?)null);

        errors.Select(e => e.Field).ShouldBe(["language", "code"], ignoreOrder: true);
    }
}
