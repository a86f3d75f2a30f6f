using Sandbox.Cli.Hosting;
using Sandbox.Core.Runs;

namespace Sandbox.Cli.Tests.Hosting;

public sealed class CliExitCodesTests
{
    [Fact]
    public void For_EveryStatusOtherThanOkAndRuntimeError_HasItsOwnCode()
    {
        var codes = Enum.GetValues<RunStatus>()
            .Where(s => s is not (RunStatus.Ok or RunStatus.RuntimeError))
            .Select(s => CliExitCodes.For(new RunResult { RunId = "r", Status = s }))
            .ToList();

        codes.Distinct().Count().ShouldBe(codes.Count);
        codes.ShouldAllBe(c => c > 200 && c < 210);
    }

    [Fact]
    public void For_RuntimeError_IsTheProgramsOwnCode() =>
        CliExitCodes.For(new RunResult { RunId = "r", Status = RunStatus.RuntimeError, ExitCode = 3 }).ShouldBe(3);

    [Fact]
    public void For_KilledBySignal_Is128PlusTheSignal() =>
        CliExitCodes.For(new RunResult { RunId = "r", Status = RunStatus.RuntimeError, Signal = 11 }).ShouldBe(139);

    [Fact]
    public void For_Ok_IsZero() => CliExitCodes.For(new RunResult { RunId = "r", Status = RunStatus.Ok, ExitCode = 0 }).ShouldBe(0);

    [Theory]
    [InlineData(256)]
    [InlineData(512)]
    [InlineData(-256)]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(int.MaxValue)]
    [InlineData(int.MinValue)]
    public void For_RuntimeErrorWithACodeOutside1To255_IsOneNeverSuccess(int exitCode) =>
        CliExitCodes.For(new RunResult { RunId = "r", Status = RunStatus.RuntimeError, ExitCode = exitCode }).ShouldBe(CliExitCodes.OutOfRangeFailure);

    [Theory]
    [InlineData(1)]
    [InlineData(255)]
    public void For_RuntimeErrorWithACodeIn1To255_IsThatCode(int exitCode) =>
        CliExitCodes.For(new RunResult { RunId = "r", Status = RunStatus.RuntimeError, ExitCode = exitCode }).ShouldBe(exitCode);
}
