using System.Text.Json;
using Sandbox.Wasm.Wasi;

namespace Sandbox.Wasm.Worker;

/// <summary>
/// A warm worker's hand-over: when the pre-initialised guest reaches its first call that could see a run (or ends
/// before one), the worker says <see cref="FrameType.Parked"/>, blocks for the run's <see cref="FrameType.Request"/>,
/// checks it is for the same profile and limits it was prepared with, says <see cref="FrameType.Ready"/> (the service
/// takes the run's CPU and memory baselines there) and only then starts the run's deadline.
/// </summary>
internal sealed class WarmClaim(WorkerRequest template, Stream input, Action<FrameType> signal, TimeProvider time, TextWriter diagnostics) : IDisposable
{
    /// <summary>Exit code of a warm worker the service let go without a run (its stdin closed), or handed a run it was not prepared for.</summary>
    public const int NotClaimed = 3;

    private readonly CancellationTokenSource _deadline = new(Timeout.InfiniteTimeSpan, time);
    private WasiRunStart? _start;

    /// <summary>Cancelled at the claimed run's deadline; never before a claim (pre-initialisation is bounded by the service).</summary>
    public CancellationToken Deadline => _deadline.Token;

    /// <summary>
    /// Waits for the run (once); exits the process when none comes or it does not match. <paramref name="whileParked"/>
    /// starts work for the wait once <see cref="FrameType.Parked"/> is said; it is disposed (stopped and finished) as soon
    /// as the request is read, before <see cref="FrameType.Ready"/>, so none of it runs on the run's clock or beside it.
    /// </summary>
    public WasiRunStart Open(Func<IDisposable?>? whileParked = null)
    {
        if (_start is not null)
        {
            return _start;
        }

        signal(FrameType.Parked);
        WorkerRequest? run = null;
        using (whileParked?.Invoke())
        {
            try
            {
                if (WorkerFrames.Read(input, WorkerRuntime.MaxRequestBytes) is { Type: FrameType.Request } frame)
                {
                    run = WorkerJson.ReadRequest(frame.Payload);
                }
            }
            catch (Exception e) when (e is InvalidDataException or JsonException or IOException)
            {
                diagnostics.WriteLine("sandbox-wasm-worker: unreadable run request: " + e.Message);
            }
        }

        if (run is null || !SameProfile(template, run))
        {
            // Fail closed: a guest prepared with other argv, environment, preopens or limits never runs this request.
            diagnostics.WriteLine(run is null ? "sandbox-wasm-worker: released without a run" : "sandbox-wasm-worker: the run does not match the prepared profile");
            Environment.Exit(NotClaimed);
        }

        signal(FrameType.Ready);
        _deadline.CancelAfter(TimeSpan.FromMilliseconds(Math.Max(1, run.DeadlineMs)));
        _start = new WasiRunStart
        {
            Stdin = run.Stdin,
            Files = run.Files.ToDictionary(f => f.Key, f => (ReadOnlyMemory<byte>)f.Value, StringComparer.Ordinal),
        };
        return _start;
    }

    public void Dispose() => _deadline.Dispose();

    /// <summary>Everything the guest could already have seen or been sized by before the claim is equal.</summary>
    internal static bool SameProfile(WorkerRequest a, WorkerRequest b) =>
        a.Args.SequenceEqual(b.Args, StringComparer.Ordinal)
        && a.Environment.Count == b.Environment.Count
        && a.Environment.All(e => b.Environment.TryGetValue(e.Key, out var v) && string.Equals(v, e.Value, StringComparison.Ordinal))
        && a.Preopens.SequenceEqual(b.Preopens)
        && a.MemoryBytes == b.MemoryBytes && a.TmpBytes == b.TmpBytes && a.FileSizeBytes == b.FileSizeBytes
        && a.StdoutBytes == b.StdoutBytes && a.StderrBytes == b.StderrBytes
        && a.Fuel == b.Fuel && a.CallerModule == b.CallerModule;
}
