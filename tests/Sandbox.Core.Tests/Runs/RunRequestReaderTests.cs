using System.Reflection;
using System.Text;
using System.Text.Json;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;

namespace Sandbox.Core.Tests.Runs;

public sealed class RunRequestReaderTests
{
    private static readonly string[] s_httpOptions = ["async", "dryRun"];

    private static RunRequestReading Read(string json, string[]? options = null) => RunRequestReader.Read(Encoding.UTF8.GetBytes(json), options);

    [Fact]
    public void Fields_AreRunRequestsPropertiesCamelCased()
    {
        // One definition: the JSON names are the record's own, so a new field cannot be added to one and not the other.
        var properties = typeof(RunRequest).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.DeclaringType == typeof(RunRequest))
            .Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name));
        RunRequestFields.All.ShouldBe(properties, ignoreOrder: true);
        var limits = typeof(LimitOverrides).GetProperties().Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name));
        RunRequestFields.LimitNames.ShouldBe(limits, ignoreOrder: true);
    }

    [Fact]
    public void Read_EveryField_BuildsTheRequestAndTheOptions()
    {
        var reading = Read("""
            {"language":"python","code":"print(input())","stdin":"hi","purpose":"echo a line","runtime":"runsc","backend":"docker",
             "files":[{"path":"data/a.txt","content":"x"}],"profile":"python-big","limits":{"wallTimeMs":1000,"pids":8,"memoryBytes":null},"dryRun":true,"async":false}
            """, s_httpOptions);

        reading.Errors.ShouldBeEmpty();
        var request = reading.Request.ShouldNotBeNull();
        request.ShouldBe(new RunRequest
        {
            Language = "python", Code = "print(input())", Stdin = "hi", Purpose = "echo a line", Runtime = "runsc", Backend = "docker", Profile = "python-big",
            Files = request.Files, Limits = new LimitOverrides { WallTimeMs = 1000, Pids = 8 },
        });
        request.Files.ShouldHaveSingleItem().ShouldBe(new InputFile { Path = "data/a.txt", Content = "x" });
        reading.Options.ShouldBe(["dryRun"]);
    }

    [Fact]
    public void Read_EverythingWrong_ReportsEveryFieldAtOnce()
    {
        var reading = Read("""
            {"language":7,"purpose":"p","timeout":5,"files":[{"path":"a"},3,null,{"path":null,"content":"c","mode":1}],"limits":{"wallTimeMs":"1s","memory":1,"pids":4294967296,"cpuTimeMs":1.5},"dryRun":"yes"}
            """);

        reading.Request.ShouldBeNull();
        reading.Errors.Select(e => e.Field).ShouldBe(
            ["language", "timeout", "files[0].content", "files[1]", "files[2]", "files[3].path", "files[3].mode", "limits.wallTimeMs", "limits.memory", "limits.pids", "limits.cpuTimeMs", "dryRun", "code"],
            ignoreOrder: true);
        reading.Errors.Single(e => e.Field == "timeout").Message.ShouldContain("limits");
        reading.Errors.Single(e => e.Field == "files[2]").Message.ShouldStartWith("is null");
        reading.Errors.Single(e => e.Field == "limits.wallTimeMs").Message.ShouldBe("has the wrong type; expected a whole number (got a string)");
    }

    [Theory]
    [InlineData("""{"language":"python","code":"a","code":"b"}""", "code", "more than once")]
    [InlineData("""{"language":"python","code":"\ud800"}""", "code", "lone surrogate")]
    [InlineData("""{"language":"python","code":"a","limits":{"pids":1,"pids":2}}""", "limits.pids", "more than once")]
    public void Read_DuplicateKeyOrLoneSurrogate_IsOneErrorNamingTheField(string json, string field, string words)
    {
        var error = Read(json).Errors.ShouldHaveSingleItem();

        error.Field.ShouldBe(field);
        error.Message.ShouldContain(words);
    }

    [Theory]
    [InlineData("[1]", "is an array, not one JSON object")]
    [InlineData("null", "is null, not one JSON object")]
    [InlineData("{\"language\":", "is not valid JSON (line 1, byte 13)")]
    public void Read_NotAnObject_IsMalformed(string json, string message)
    {
        var reading = Read(json);

        reading.Request.ShouldBeNull();
        reading.Malformed.ShouldBe(message);
    }

    [Fact]
    public void Read_BlankPurpose_IsNoPurpose()
    {
        Read("""{"language":"python","code":"print(1)","purpose":"  "}""").Request.ShouldNotBeNull().Purpose.ShouldBeNull();
    }

    [Fact]
    public void Read_OptionOfAnotherSurface_IsAnUnknownField()
    {
        // MCP's run_code has no dryRun: the same name is an error there, never silently ignored.
        Read("""{"language":"python","code":"1","dryRun":true}""").Errors.ShouldHaveSingleItem().Field.ShouldBe("dryRun");
    }
}
