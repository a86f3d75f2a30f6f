using System.Text.Json;
using Sandbox.Server.Mcp;

namespace Sandbox.Server.Tests.Mcp;

public sealed class RunCodeArgumentsTests
{
    private static Dictionary<string, JsonElement> Arguments(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    [Fact]
    public void Parse_AllArguments_BuildsTheRequest()
    {
        var (request, errors) = RunCodeArguments.Parse(Arguments("""
            {"language":"python","code":"print(input())","stdin":"hi","purpose":"echo a line",
             "files":[{"path":"data/a.txt","content":"x"}],"profile":"python-big","limits":{"wallTimeMs":1000,"pids":8}}
            """));

        errors.ShouldBeEmpty();
        request.ShouldNotBeNull();
        request.Language.ShouldBe("python");
        request.Stdin.ShouldBe("hi");
        request.Purpose.ShouldBe("echo a line");
        request.Profile.ShouldBe("python-big");
        request.Files!.Single().Path.ShouldBe("data/a.txt");
        request.Limits!.WallTimeMs.ShouldBe(1000);
        request.Limits.Pids.ShouldBe(8);
        request.Limits.MemoryBytes.ShouldBeNull();
    }

    [Fact]
    public void Parse_NoPurpose_IsARequestWithoutOne()
    {
        // One rule with HTTP: purpose is optional on every front end (issue 12: MCP required it, HTTP did not).
        var (request, errors) = RunCodeArguments.Parse(Arguments("""{"language":"python","code":"print(1)"}"""));

        errors.ShouldBeEmpty();
        request.ShouldNotBeNull().Purpose.ShouldBeNull();
    }

    [Fact]
    public void Parse_BlankPurpose_IsNoPurpose()
    {
        var (request, errors) = RunCodeArguments.Parse(Arguments("""{"language":"python","code":"print(1)","purpose":"  "}"""));

        errors.ShouldBeEmpty();
        request.ShouldNotBeNull().Purpose.ShouldBeNull();
    }

    [Fact]
    public void Parse_EverythingWrong_ReportsEveryFieldAtOnce()
    {
        var (request, errors) = RunCodeArguments.Parse(Arguments("""
            {"language":7,"code":"","purpose":"p","timeout":5,"files":[{"path":"a"},3],"limits":{"wallTimeMs":"1s","memory":1,"cpuTimeMs":-1}}
            """));

        request.ShouldBeNull();
        errors.Select(e => e.Field).ShouldBe(
            ["timeout", "language", "code", "files[0].content", "files[1]", "limits.wallTimeMs", "limits.memory", "limits.cpuTimeMs"],
            ignoreOrder: true);
        errors.Single(e => e.Field == "timeout").Message.ShouldContain("limits");
    }

    [Fact]
    public void Parse_NullArguments_AsksForTheRequiredOnes()
    {
        var (_, errors) = RunCodeArguments.Parse(null);

        errors.Select(e => e.Field).ShouldBe(["language", "code"], ignoreOrder: true);
    }
}
