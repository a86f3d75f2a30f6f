using Sandbox.Wasm.Backend;
using Sandbox.Wasm.Wasi;

namespace Sandbox.Wasm.Worker;

/// <summary>Laps of the worker's phases (<see cref="WorkerPhases"/>): wall time on the worker's clock, CPU time of the whole process.</summary>
internal sealed class WorkerPhaseClock(TimeProvider time)
{
    private long _last = time.GetTimestamp();
    private TimeSpan _lastCpu = Environment.CpuUsage.TotalTime;
    private WorkerPhase _read;
    private WorkerPhase _compile;
    private WorkerPhase? _preInit;
    private WorkerPhase? _parked;

    public void Read() => _read = Lap();

    public void Compiled() => _compile = Lap();

    /// <summary>Wraps a warm worker's gate so the guest's start-up and the wait for the run are timed apart.</summary>
    public Func<WasiRunStart> Around(Func<WasiRunStart> gate) => () =>
    {
        _preInit = Lap();
        var start = gate();
        _parked = Lap();
        return start;
    };

    /// <summary>The phases, the run's lap ending now.</summary>
    public WorkerPhases Ended() => new()
    {
        Read = _read,
        Compile = _compile,
        PreInit = _preInit,
        Parked = _parked,
        Run = Lap(),
    };

    private WorkerPhase Lap()
    {
        var now = time.GetTimestamp();
        var cpu = Environment.CpuUsage.TotalTime;
        var lap = new WorkerPhase(Math.Round(time.GetElapsedTime(_last, now).TotalMilliseconds, 1), Math.Round((cpu - _lastCpu).TotalMilliseconds, 1));
        (_last, _lastCpu) = (now, cpu);
        return lap;
    }
}
