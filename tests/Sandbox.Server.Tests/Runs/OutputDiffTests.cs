using Sandbox.Core.Runs;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Tests.Runs;

/// <summary>The compact line diff a replay reports, and which fields of two results it compares.</summary>
public sealed class OutputDiffTests
{
    [Fact]
    public void Lines_EqualTexts_AreEmpty() => OutputDiff.Lines("a\nb\n", "a\nb\n").ShouldBeEmpty();

    [Fact]
    public void Lines_OneLineChanged_SkipsTheCommonHeadAndTail()
    {
        var diff = OutputDiff.Lines("same\n0.1234\nend\n", "same\n0.9876\nend\n");

        diff.ShouldBe(["@@ line 2 @@", "-0.1234", "+0.9876"]);
    }

    [Fact]
    public void Lines_LineAddedAtTheEnd_ShowsOnlyTheAddition() =>
        OutputDiff.Lines("a\n", "a\nb\n").ShouldBe(["@@ line 2 @@", "+b"]);

    [Fact]
    public void Lines_FromEmpty_ShowsEveryLineAdded() =>
        OutputDiff.Lines("", "x\ny\n").ShouldBe(["+x", "+y"]);

    [Fact]
    public void Lines_OnlyTheFinalNewlineDiffers_SaysSo() =>
        OutputDiff.Lines("a\nb", "a\nb\n").ShouldBe(["+(newline at end)"]);

    [Fact]
    public void Lines_FloodOfDifferences_IsCappedWithAMarker()
    {
        var a = string.Concat(Enumerable.Range(0, 1000).Select(i => $"a{i}\n"));
        var b = string.Concat(Enumerable.Range(0, 1000).Select(i => $"b{i}\n"));

        var diff = OutputDiff.Lines(a, b);

        diff.Count.ShouldBe(OutputDiff.MaxLines + 1);
        diff[^1].ShouldStartWith("…");
    }

    [Fact]
    public void Lines_OneHugeLine_IsCut()
    {
        var diff = OutputDiff.Lines("", new string('x', 100_000));

        diff.ShouldHaveSingleItem().Length.ShouldBeLessThan(OutputDiff.MaxLineLength + 40);
    }

    [Fact]
    public void Differences_SameResult_IsNone()
    {
        var result = Result(RunStatus.Ok, 0, "45\n", "");

        RunLifecycle.Differences(result, result with { RunId = "run_b" }).ShouldBeEmpty();
    }

    [Fact]
    public void Differences_StatusExitCodeAndStderr_EachNamed()
    {
        var differences = RunLifecycle.Differences(Result(RunStatus.Ok, 0, "x\n", ""), Result(RunStatus.RuntimeError, 1, "x\n", "boom\n"));

        differences.Select(d => d.Field).ShouldBe(["status", "exitCode", "stderr"]);
        differences[0].Original.ShouldBe("ok");
        differences[0].Replay.ShouldBe("runtime_error");
        differences[1].Original.ShouldBe("0");
        differences[1].Replay.ShouldBe("1");
        differences[2].Diff.ShouldBe(["+boom"]);
    }

    private static RunResult Result(RunStatus status, int exitCode, string stdout, string stderr) =>
        new() { RunId = "run_a", Status = status, ExitCode = exitCode, Stdout = stdout, Stderr = stderr };
}
