using Sandbox.Wasm.Execution;
using Sandbox.Wasm.Wasi;

namespace Sandbox.Wasm.Worker;

/// <summary>
/// A warm worker's snapshot side (<see cref="WarmSnapshotMode"/>). Taking: the guest's start-up runs interpreted only
/// (compiled frames would sit on the host stack, out of reach), and at the gate, before the worker parks, the guest is
/// captured and sent to the service. Restoring: the instance is freshly instantiated, then given the snapshot's memory,
/// globals, tables, call state and the WASI host's inode numbers, and continues by making the gated call again, which
/// parks it exactly where a worker that ran the start-up would be.
/// </summary>
internal sealed class WarmSnapshot(WarmSnapshotMode mode, byte[] context, (InstanceSnapshot Instance, string[][] WasiInodes)? restore, Action<byte[]> send, TextWriter diagnostics)
{
    private WasmEngine? _engine;
    private WasiHost? _wasi;
    private WasmInstance? _instance;
    private bool _gateReached;

    public WarmSnapshotMode Mode => mode;

    /// <summary>Why the snapshot was refused before the guest reached its gate (the worker then exits without parking); null when it was not.</summary>
    public string? Refused { get; private set; }

    /// <summary>Called once the engine and the WASI host exist, before the guest starts.</summary>
    public void Attach(WasmEngine engine, WasiHost wasi)
    {
        _engine = engine;
        _wasi = wasi;
        if (mode == WarmSnapshotMode.Take)
        {
            engine.Interpreter.CompileEnabled = false;
        }
    }

    /// <summary>After instantiation: continues the snapshot and returns true (the guest has ended), or false to start the guest as usual.</summary>
    public bool TryResume(WasmInstance instance)
    {
        _instance = instance;
        if (mode != WarmSnapshotMode.Restore)
        {
            return false;
        }

        try
        {
            _wasi!.RestoreState(restore!.Value.WasiInodes);
            restore.Value.Instance.Resume(instance);
        }
        catch (InvalidDataException e) when (!_gateReached)
        {
            Refused = e.Message;
            throw;
        }

        return true;
    }

    /// <summary>Work for the park of a restored guest: its module's remaining bodies are translated while it waits (<see cref="ParkedTranslation"/>).</summary>
    public IDisposable? WhileParked() => mode == WarmSnapshotMode.Restore && _instance is not null ? ParkedTranslation.Start(_instance.Module) : null;

    /// <summary>Inside the gate, before parking: captures the guest (when taking) and turns the IL tier back on for the run.</summary>
    public void AtGate()
    {
        _gateReached = true;
        if (mode != WarmSnapshotMode.Take)
        {
            return;
        }

        string? why = "the gate opened during instantiation";
        if (_instance is not null && InstanceSnapshot.Capture(_instance, out why) is { } instance && _wasi!.CaptureState(out why) is { } inodes)
        {
            send(GuestSnapshotFile.Write(instance, inodes, context));
        }
        else
        {
            // Not capturable: this worker still serves its run; the pool keeps starting workers the long way.
            diagnostics.WriteLine("sandbox-wasm-worker: no snapshot: " + why);
        }

        _engine!.Interpreter.CompileEnabled = true;
    }
}
