using System.Text.Json;
using Sandbox.Core.Execution;
using Sandbox.Wasm.Backend;
using Sandbox.Wasm.Wasi;

namespace Sandbox.Wasm.Worker;

/// <summary>
/// The worker process's whole job: read one <see cref="WorkerRequest"/> and the module from the service, run the
/// guest on a fresh engine, stream its output back as it comes, and end with one <see cref="WasmOutcome"/>. It runs
/// inside the sandbox the service built (no network, uid 65534, its own cgroup, a read-only mount view), so it
/// trusts nothing it does not need to and the service trusts nothing it says beyond the frames' bounds.
/// </summary>
public static class WorkerRuntime
{
    /// <summary>Largest request frame (code, stdin and files are capped far below this by the profile).</summary>
    public const int MaxRequestBytes = 256 * 1024 * 1024;

    /// <summary>Largest module the service sends (the <c>wasm</c> profile caps caller modules at 16 MiB).</summary>
    public const int MaxModuleBytes = 128 * 1024 * 1024;

    /// <summary>Exit code of a warm worker that refused the snapshot it was sent (another key's, corrupt, or not fitting the module).</summary>
    public const int SnapshotRefused = 4;

    /// <summary>Runs one request from <paramref name="input"/>, writing frames to <paramref name="output"/>. Returns the process exit code.</summary>
    public static int Run(Stream input, Stream output, TimeProvider time, TextWriter diagnostics)
    {
        var clock = new WorkerPhaseClock(time);
        WorkerRequest request;
        byte[] module;
        bool warm;
        try
        {
            var first = WorkerFrames.Read(input, MaxRequestBytes);
            var second = WorkerFrames.Read(input, MaxModuleBytes);
            if (first is not { Type: FrameType.Request or FrameType.Prepare } || second is not { Type: FrameType.Module })
            {
                diagnostics.WriteLine("sandbox-wasm-worker: expected a request (or prepare) frame and a module frame");
                return 2;
            }

            request = WorkerJson.ReadRequest(first.Value.Payload);
            module = second.Value.Payload;
            warm = first.Value.Type == FrameType.Prepare;
            clock.Read();
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or IOException)
        {
            diagnostics.WriteLine("sandbox-wasm-worker: unreadable request: " + e.Message);
            return 2;
        }

        var frames = new FrameWriter(output);
        WasmOutcome outcome;
        WarmSnapshot? snapshot = null;
        if (warm && request.Snapshot != WarmSnapshotMode.None)
        {
            try
            {
                snapshot = OpenSnapshot(request, module, input, frames, diagnostics);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                // Fail closed: a snapshot of another engine build, module or profile, or an altered one, never runs.
                diagnostics.WriteLine("sandbox-wasm-worker: snapshot refused: " + e.Message);
                return SnapshotRefused;
            }
        }

        if (warm)
        {
            if (request.Fuel is not null)
            {
                // Pre-initialisation would spend the run's deterministic budget; fuelled profiles always start cold.
                diagnostics.WriteLine("sandbox-wasm-worker: a fuelled profile cannot be pre-initialised");
                return 2;
            }

            // The result's writer is first used at the run's end; what its first use compiles is compiled here instead (with
            // every phase set, as a warm worker's result has them), and so is what else the run would compile first.
            _ = WorkerJson.WriteOutcome(new WasmOutcome { ExitCode = 0, Phases = new WorkerPhases { PreInit = default(WorkerPhase), Parked = default(WorkerPhase) } });
            RunPathPrimer.Prime(request);
            using var claim = new WarmClaim(request, input, type => frames.Write(type, []), time, diagnostics);
            outcome = Execute(request, module, frames, clock.Around(() =>
            {
                snapshot?.AtGate();
                return claim.Open(snapshot is null ? null : snapshot.WhileParked);
            }), clock, snapshot, claim.Deadline);
            if (snapshot?.Refused is { } refused)
            {
                diagnostics.WriteLine("sandbox-wasm-worker: snapshot refused: " + refused);
                return SnapshotRefused;
            }

            // A guest that ended before its first run-specific call still waits for its run, which then sees that ending.
            claim.Open();
        }
        else
        {
            frames.Write(FrameType.Ready, []);
            outcome = Execute(request, module, frames, time, clock);
        }

        outcome = outcome with { Phases = clock.Ended() };

        foreach (var artifact in outcome.Artifacts)
        {
            frames.WriteArtifact(artifact);
        }

        frames.Write(FrameType.Result, WorkerJson.WriteOutcome(outcome));
        output.Flush();
        return 0;
    }

    /// <summary>The snapshot side of a warm worker: for a restore, the snapshot frame that follows the module, checked against this module and profile.</summary>
    private static WarmSnapshot OpenSnapshot(WorkerRequest request, byte[] module, Stream input, FrameWriter frames, TextWriter diagnostics)
    {
        var profile = WorkerJson.WriteRequest(request with { RunId = "", Snapshot = WarmSnapshotMode.None });
        var context = GuestSnapshotFile.Context(module, profile);
        (Execution.InstanceSnapshot, string[][], ArraySegment<byte>)? restore = null;
        if (request.Snapshot == WarmSnapshotMode.Restore)
        {
            var maxPages = MaxPages(request);
            if (WorkerFrames.Read(input, (int)Math.Min(int.MaxValue, ((long)maxPages * WasmMemory.PageSize) + MaxModuleBytes)) is not { Type: FrameType.Snapshot } frame)
            {
                throw new InvalidDataException("expected a snapshot frame after the module");
            }

            restore = GuestSnapshotFile.Open(frame.Payload, context, maxPages);
        }

        var snapshot = new WarmSnapshot(request.Snapshot, context, restore, bytes => frames.Write(FrameType.Captured, bytes), diagnostics);
        // Read here, so an image that does not belong is refused as any snapshot is, before anything runs.
        snapshot.ReadModule(module, EngineOptions(request, request.Snapshot));
        return snapshot;
    }

    /// <summary>The engine's options for <paramref name="request"/>: the same for the compile, a module image's read and the run.</summary>
    private static WasmEngineOptions EngineOptions(WorkerRequest request, WarmSnapshotMode mode) => new()
    {
        // Linear memory is the guest's whole heap and stack: the memory limit is its page cap.
        MaxMemoryPages = MaxPages(request),
        // Tables are memory too: linear memory and every table's elements share the one memoryBytes budget.
        MemoryBudgetBytes = request.MemoryBytes,
        // A restored guest calls a small part of its module (start-up is behind it): a body its snapshot's module image
        // lacks is validated and translated at its first call. The worker that took the snapshot, and every cold worker,
        // validate it whole.
        LazyTranslation = mode == WarmSnapshotMode.Restore,
    };

    private static int MaxPages(WorkerRequest request) => (int)Math.Clamp(request.MemoryBytes / WasmMemory.PageSize, 1, WasmEngine.MaxPagesInArray);

    /// <summary>Compiles and runs the guest; every way it can end becomes an outcome.</summary>
    internal static WasmOutcome Execute(WorkerRequest request, byte[] bytes, IRunOutputSink? output, TimeProvider time, WorkerPhaseClock? clock = null)
    {
        // The deadline interrupts compiling and the guest (at its next call or loop back-edge, or in a poll_oneoff
        // sleep). It is a courtesy that keeps the output and a clean status: the service kills the worker shortly
        // after the same deadline whatever it is doing.
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(Math.Max(1, request.DeadlineMs)), time);
        return Execute(request, bytes, output, gate: null, clock, snapshot: null, deadline.Token);
    }

    /// <summary>Runs the guest under <paramref name="deadline"/>; with a <paramref name="gate"/>, pre-initialised until a run claims it (<see cref="WasiOptions.Gate"/>).</summary>
    internal static WasmOutcome Execute(WorkerRequest request, byte[] bytes, IRunOutputSink? output, Func<WasiRunStart>? gate, WorkerPhaseClock? clock, WarmSnapshot? snapshot, CancellationToken deadline)
    {
        try
        {
            return ExecuteCore(request, bytes, output, gate, clock, snapshot, deadline);
        }
        catch (OutOfMemoryException)
        {
            // The runtime's heap hard limit (sized from the profile) was reached: the guest's doing, reported as such.
            return new WasmOutcome { OutOfMemory = true };
        }
    }

    private static WasmOutcome ExecuteCore(WorkerRequest request, byte[] bytes, IRunOutputSink? output, Func<WasiRunStart>? gate, WorkerPhaseClock? clock, WarmSnapshot? snapshot, CancellationToken deadline)
    {
        var engine = new WasmEngine(EngineOptions(request, snapshot?.Mode ?? WarmSnapshotMode.None));

        WasmModule module;
        try
        {
            // A restore takes the module from the snapshot's image, decoded and translated once for every worker of its
            // key. Decoding, validating and translating run under the deadline too: a module built to be slow to load stops with it.
            module = snapshot?.Module ?? engine.Compile(bytes, deadline);
            clock?.Compiled();
        }
        catch (Exception e) when (e is WasmDecodeException or WasmValidationException)
        {
            return new WasmOutcome { InvalidModule = e.Message };
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return new WasmOutcome { Trap = WasmTrapKind.Interrupted };
        }

        if (deadline.IsCancellationRequested)
        {
            return new WasmOutcome { Trap = WasmTrapKind.Interrupted };
        }

        using var interrupt = deadline.Register(engine.RequestInterrupt);
        WasiHost wasi;
        try
        {
            wasi = new WasiHost(WasiOptionsFor(request, output, deadline) with { Gate = gate });
            if (request.Artifacts is not null)
            {
                // As the Docker backend's outputs step does: the folder is there before the program runs.
                wasi.CreateOutputsFolder();
            }
        }
        catch (ArgumentException e)
        {
            return new WasmOutcome { FilesRejected = e.Message };
        }
        catch (DirectoryNotFoundException)
        {
            return new WasmOutcome { Failure = "a preopen is missing inside the worker's sandbox" };
        }

        using (wasi)
        {
            var linker = new WasmLinker();
            wasi.Define(engine, linker);
            if (request.Fuel is { } fuel)
            {
                engine.Fuel = fuel;
            }

            snapshot?.Attach(engine, wasi);
            var ending = RunOnExecutionThread(engine, module, linker, snapshot);
            return WithArtifacts(ending with
            {
                MemoryGrowRefused = engine.GrowRefusedByCap,
                GuestMemoryBytes = engine.PeakMemoryBytes,
                FuelUsed = request.Fuel is { } granted ? granted - engine.Fuel : null,
                OutputBytes = wasi.OutputBytes,
                StdoutTruncated = wasi.StdoutTruncated,
                StderrTruncated = wasi.StderrTruncated,
            }, request.Artifacts, wasi);
        }
    }

    /// <summary>The files under <c>/tmp/outputs</c> within the caps (sent as frames), and the others named with their reason.</summary>
    private static WasmOutcome WithArtifacts(WasmOutcome outcome, Core.Limits.ArtifactLimits? limits, WasiHost wasi)
    {
        if (limits is null)
        {
            return outcome;
        }

        var gatherer = new Core.Artifacts.ArtifactGatherer(limits);
        foreach (var (path, content) in wasi.OutputFiles())
        {
            if (gatherer.Offer(path, Core.Artifacts.ArtifactEntryKind.File, content.Length))
            {
                gatherer.Add(path, content);
            }
        }

        return outcome with { Artifacts = gatherer.Artifacts, ArtifactsDropped = gatherer.Dropped.Count > 0 ? gatherer.Dropped : null };
    }

    private static WasmOutcome RunOnExecutionThread(WasmEngine engine, WasmModule module, WasmLinker linker, WarmSnapshot? snapshot)
    {
        try
        {
            return engine.RunOnExecutionThread(() => RunStart(engine, module, linker, snapshot));
        }
        catch (WasiExitException exit)
        {
            return new WasmOutcome { ExitCode = exit.ExitCode };
        }
        catch (WasmTrapException trap)
        {
            return new WasmOutcome { Trap = trap.Kind };
        }
        catch (WasiGateException rejected)
        {
            return new WasmOutcome { FilesRejected = rejected.Message };
        }
        catch (WasiOutputLimitException limit)
        {
            return new WasmOutcome { OutputLimit = limit.IsStdout ? OutputStreamKind.Stdout : OutputStreamKind.Stderr };
        }
        catch (WasmLinkException link) when (link.ExceedsMemoryLimit)
        {
            return new WasmOutcome { MemoryMinimumRefused = link.Message };
        }
        catch (WasmLinkException link)
        {
            return new WasmOutcome { LinkError = link.Message };
        }
        catch (OutOfMemoryException)
        {
            return new WasmOutcome { OutOfMemory = true };
        }
#pragma warning disable CA1031 // Anything else is our own failure: it is reported as such, never as the guest's.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return new WasmOutcome { Failure = e.GetType().Name + ": " + e.Message };
        }
    }

    private static WasmOutcome RunStart(WasmEngine engine, WasmModule module, WasmLinker linker, WarmSnapshot? snapshot)
    {
        // proc_exit or a trap may come from the start function, inside Instantiate.
        // A restoring worker's memory is replaced whole by the snapshot (or it refuses and exits): data segments are not copied.
        var instance = snapshot?.Mode == WarmSnapshotMode.Restore ? engine.InstantiateForRestore(module, linker) : engine.Instantiate(module, linker);
        if (snapshot?.TryResume(instance) == true)
        {
            return new WasmOutcome { ExitCode = 0 };
        }

        if (instance.GetFunction("_start") is not { ParameterCount: 0, ResultCount: 0 } start)
        {
            return new WasmOutcome { MissingStart = true };
        }

        engine.Invoke(start);
        return new WasmOutcome { ExitCode = 0 };
    }

    private static WasiOptions WasiOptionsFor(WorkerRequest request, IRunOutputSink? output, CancellationToken interrupt) => new()
    {
        // Only what the profile configures: the worker's own argv and environment never reach the guest.
        Args = request.Args,
        Environment = request.Environment,
        Stdin = request.Stdin,
        MaxStdoutBytes = (int)Math.Min(request.StdoutBytes, int.MaxValue),
        MaxStderrBytes = (int)Math.Min(request.StderrBytes, int.MaxValue),
        StopOnOutputLimit = true,
        Tmp = new WasiTmpOptions
        {
            MaxBytes = request.TmpBytes,
            MaxFileBytes = request.FileSizeBytes,
            Files = request.Files.ToDictionary(f => f.Key, f => (ReadOnlyMemory<byte>)f.Value, StringComparer.Ordinal),
        },
        Preopens = [.. request.Preopens.Select(p => new WasiPreopen(p.GuestPath, p.Path))],
        Interrupt = interrupt,
        Output = output,
    };

    /// <summary>Writes frames to the service; output chunks come from the execution thread, the rest from the main one.</summary>
    private sealed class FrameWriter(Stream stream) : IRunOutputSink
    {
        private readonly Lock _lock = new();

        public void Write(FrameType type, ReadOnlySpan<byte> payload)
        {
            lock (_lock)
            {
                WorkerFrames.Write(stream, type, payload);
                stream.Flush();
            }
        }

        /// <summary>One file: its size and path, then its bytes in bounded chunks.</summary>
        public void WriteArtifact(Core.Runs.RunArtifact artifact)
        {
            var path = System.Text.Encoding.UTF8.GetBytes(artifact.Path);
            var begin = new byte[8 + path.Length];
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(begin, artifact.Content.Length);
            path.CopyTo(begin, 8);
            Write(FrameType.ArtifactBegin, begin);
            var bytes = artifact.Content.Span;
            while (!bytes.IsEmpty)
            {
                var part = bytes[..Math.Min(bytes.Length, WorkerFrames.MaxOutputChunkBytes)];
                Write(FrameType.ArtifactData, part);
                bytes = bytes[part.Length..];
            }
        }

        public void Write(OutputStreamKind kind, ReadOnlySpan<byte> chunk)
        {
            var type = kind == OutputStreamKind.Stdout ? FrameType.Stdout : FrameType.Stderr;
            while (!chunk.IsEmpty)
            {
                var part = chunk[..Math.Min(chunk.Length, WorkerFrames.MaxOutputChunkBytes)];
                Write(type, part);
                chunk = chunk[part.Length..];
            }
        }
    }
}
