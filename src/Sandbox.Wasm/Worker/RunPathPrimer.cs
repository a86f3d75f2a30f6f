using System.Buffers;
using System.Runtime.ExceptionServices;

namespace Sandbox.Wasm.Worker;

/// <summary>
/// Makes a warm worker's runtime compile, before its claim, what its run would otherwise compile on the run's clock.
/// The engine is ReadyToRun code that is never re-JIT-compiled (<see cref="Backend.WorkerLauncher"/>), but ReadyToRun cannot hold
/// generic code over the framework's own types instantiated from our code (<c>Dictionary&lt;string, ReadOnlyMemory&lt;byte&gt;&gt;</c>,
/// <c>Dictionary&lt;uint, T&gt;</c>, tuples), so the first run of a restored python-wasm guest JIT-compiled 21 such methods
/// at full optimisation: about 3 of the 5 ms of CPU its run took outside the service's sandbox (listed with
/// <c>DOTNET_JitDisasmSummary=1</c>). Each line here uses the same instantiation as the run path named beside it: the
/// compiled code is shared, so a line gone stale costs that method's compile on the run again, and nothing else.
/// </summary>
internal static class RunPathPrimer
{
    public static void Prime(WorkerRequest template)
    {
        // WarmClaim.Open: the run's request checked against the template, and its files as read-only memory.
        _ = WarmClaim.SameProfile(template, template);
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal) { ["main.py"] = [] }
            .ToDictionary(f => f.Key, f => (ReadOnlyMemory<byte>)f.Value, StringComparer.Ordinal);

        // WasiHost: the run's files written into /tmp, and its descriptor table (fd_close, the descriptors' walk).
        foreach (var (name, bytes) in files)
        {
            _ = name.Length + bytes.Length;
        }

        var descriptors = new Dictionary<uint, object> { [3] = files };
        _ = descriptors.ContainsKey(3);
        _ = descriptors.Remove(3, out _);
        foreach (var descriptor in descriptors.Values)
        {
            _ = descriptor;
        }

        descriptors.Clear();

        // WasiHost's output buffers, and the interpreter's resume point and stack views (Interpreter.Snapshot).
        _ = new ArrayBufferWriter<byte>().GetSpan(1);
        (string, int, int, int)? resume = ("", 0, 0, 0);
        _ = resume.HasValue ? resume.Value.Item2 : 0;
        _ = new ValueTuple<int, int, int>(0, 0, 0);
        _ = new ulong[1].AsSpan(0);

        // The guest's exit is an exception the execution thread hands back to the worker's thread.
        try
        {
            ExceptionDispatchInfo.Capture(new OperationCanceledException()).Throw();
        }
        catch (OperationCanceledException)
        {
        }
    }
}
