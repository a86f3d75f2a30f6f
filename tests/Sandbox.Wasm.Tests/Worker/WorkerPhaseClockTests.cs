using Sandbox.Wasm.Wasi;
using Sandbox.Wasm.Worker;

namespace Sandbox.Wasm.Tests.Worker;

public sealed class WorkerPhaseClockTests
{
    [Fact]
    public void Ended_WarmWorker_TimesEachPhaseApartAroundTheGate()
    {
        var time = new SteppedTime();
        var clock = new WorkerPhaseClock(time);

        time.Advance(5);
        clock.Read();
        time.Advance(7);
        clock.Compiled();
        time.Advance(400);
        var gate = clock.Around(() =>
        {
            time.Advance(1000);
            return new WasiRunStart();
        });
        gate();
        time.Advance(3);
        var phases = clock.Ended();

        phases.Read.WallMs.ShouldBe(5);
        phases.Compile.WallMs.ShouldBe(7);
        phases.PreInit.ShouldNotBeNull().WallMs.ShouldBe(400);
        phases.Parked.ShouldNotBeNull().WallMs.ShouldBe(1000);
        phases.Run.WallMs.ShouldBe(3);
        phases.Run.CpuMs.ShouldBeGreaterThanOrEqualTo(0);
        phases.Describe().ShouldStartWith("read 5/");
        phases.Describe().ShouldContain("parked 1000/");
    }

    [Fact]
    public void Ended_ColdWorker_HasNoPreInitialisation()
    {
        var time = new SteppedTime();
        var clock = new WorkerPhaseClock(time);
        clock.Read();
        clock.Compiled();
        time.Advance(42);

        var phases = clock.Ended();

        phases.PreInit.ShouldBeNull();
        phases.Parked.ShouldBeNull();
        phases.Run.WallMs.ShouldBe(42);
        phases.Describe().ShouldNotContain("pre-init");
    }

    /// <summary>A clock that moves only when told, in whole milliseconds.</summary>
    private sealed class SteppedTime : TimeProvider
    {
        private long _now;

        public override long TimestampFrequency => 1000;

        public override long GetTimestamp() => _now;

        public void Advance(long milliseconds) => _now += milliseconds;
    }
}
