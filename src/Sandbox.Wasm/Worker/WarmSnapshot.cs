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
internal sealed class WarmSnapshot(WarmSnapshotMode mode, byte[] context, (InstanceSnapshot Instance, string[][] WasiInodes, ArraySegment<byte> ModuleImage)? restore, Action<byte[]> send, TextWriter diagnostics)
{
    private WasmEngine? _engine;
    private WasiHost? _wasi;
    private WasmInstance? _instance;
    private bool _gateReached;

    public WarmSnapshotMode Mode => mode;

    /// <summary>
    /// The module of a restore, from the snapshot's module image (<see cref="ModuleImage"/>): decoded and translated once,
    /// by the worker that took the snapshot, for every worker that restores it. Null when the snapshot holds none (the
    /// module is then compiled as usual) and when taking.
    /// </summary>
    public WasmModule? Module { get; private set; }

    /// <summary>Reads <see cref="Module"/> from the image, for <paramref name="moduleBytes"/> and an engine of <paramref name="options"/>.</summary>
    /// <exception cref="InvalidDataException">The image does not belong to this module, engine build and options, or is malformed.</exception>
    public void ReadModule(byte[] moduleBytes, WasmEngineOptions options)
    {
        if (mode == WarmSnapshotMode.Restore && restore!.Value.ModuleImage.Count > 0)
        {
            Module = ModuleImage.Read(moduleBytes, context, restore.Value.ModuleImage, options);
        }
    }

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
            // The module as this worker compiled it (whole: a taking worker translates every body), bound to the same
            // context as the snapshot: that context already names this module's bytes and this engine build.
            var module = _instance.Module;
            var options = _engine!.Options;
            send(GuestSnapshotFile.Write(instance, inodes, context, stream => ModuleImage.Write(module, context, options, stream)));
        }
        else
        {
            // Not capturable: this worker still serves its run; the pool keeps starting workers the long way.
            diagnostics.WriteLine("sandbox-wasm-worker: no snapshot: " + why);
        }

        _engine!.Interpreter.CompileEnabled = true;
    }
}
