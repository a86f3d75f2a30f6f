using Sandbox.Wasm.Decoding;
using Sandbox.Wasm.Execution;
using Sandbox.Wasm.Validation;

namespace Sandbox.Wasm;

/// <summary>
/// Compiles and instantiates modules and runs their functions. One engine is one store plus one
/// interpreter: it is not thread-safe, except for <see cref="RequestInterrupt"/>, which any thread may call.
/// Function instances live as long as the engine (funcref handles index them), so use one engine per run
/// rather than one per process.
/// </summary>
public sealed class WasmEngine
{
    /// <summary>A byte[] cannot exceed 2 GiB, so no memory can have more pages than this.</summary>
    internal const int MaxPagesInArray = 32767;

    private readonly Dictionary<FunctionType, int> _typeIds = [];
    private int _functionCount;

    public WasmEngine(WasmEngineOptions? options = null)
    {
        Options = options ?? new WasmEngineOptions();
        WasmEngineOptionsValidator.Validate(Options);
        Budget = new MemoryBudget(Options.MemoryBudgetBytes, Options.MaxTableBytes);
        Interpreter = new Interpreter(this);
    }

    public WasmEngineOptions Options { get; }

    /// <summary>
    /// Remaining fuel. Each basic block charges its WebAssembly instruction count on entry; when the
    /// balance would go negative the guest traps with <see cref="WasmTrapKind.OutOfFuel"/>. Deterministic:
    /// the same program with the same fuel stops at the same point. Defaults to effectively unlimited.
    /// </summary>
    public long Fuel
    {
        get => Math.Max(0, Interpreter.Fuel);
        set => Interpreter.Fuel = value;
    }

    internal Interpreter Interpreter { get; }

    /// <summary>The bytes linear memories and tables of this engine may allocate (<see cref="WasmEngineOptions.MemoryBudgetBytes"/>, <see cref="WasmEngineOptions.MaxTableBytes"/>).</summary>
    internal MemoryBudget Budget { get; }

    /// <summary>
    /// Most guest-addressable bytes this engine's memories and tables held at once: linear memory sizes plus 8 per
    /// table element. What a run reports as its peak memory; neither kind shrinks, so it is also the current size.
    /// </summary>
    public long PeakMemoryBytes => Budget.PeakVisibleBytes;

    /// <summary>Bytes the host allocated for this engine's linear memories and tables (capacity: at least <see cref="PeakMemoryBytes"/>,
    /// never more than <see cref="WasmEngineOptions.MemoryBudgetBytes"/> when set).</summary>
    public long AllocatedMemoryBytes => Budget.LinearMemoryBytes + Budget.TableBytes;

    /// <summary>True once any memory.grow or table.grow of this engine was refused by a host cap or the shared budget
    /// (not by the module's own maximum): with a failure after it, the run ran out of memory.</summary>
    public bool GrowRefusedByCap => Budget.GrowRefusedByCap;

    /// <summary>Every function of this engine; a funcref handle h denotes element h - 1. A field because the
    /// dispatch loop reads it on every call_indirect.</summary>
    internal WasmFunction[] FunctionsByHandle = new WasmFunction[64];

    /// <summary>Asks running guest code to trap with <see cref="WasmTrapKind.Interrupted"/> at its next call or loop back-edge. Thread-safe.</summary>
    public void RequestInterrupt() => Interpreter.InterruptRequested = true;

    /// <summary>Clears a previous <see cref="RequestInterrupt"/>.</summary>
    public void ClearInterrupt() => Interpreter.InterruptRequested = false;

    /// <summary>Decodes, validates and translates a module binary.</summary>
    /// <exception cref="WasmDecodeException">The binary is malformed or exceeds a cap.</exception>
    /// <exception cref="WasmValidationException">The module does not validate.</exception>
    public WasmModule Compile(byte[] bytes) => Compile(bytes, CancellationToken.None);

    /// <summary>
    /// Decodes, validates and translates a module binary, stopping when <paramref name="cancellation"/> fires. Pass the
    /// run's deadline: loading a large or hostile module costs time and memory before any guest code runs, so it must
    /// be bounded by the same clock (checked every 1,024 vector entries, before every function, and every 64k
    /// instructions inside a body).
    /// </summary>
    /// <exception cref="WasmDecodeException">The binary is malformed or exceeds a cap.</exception>
    /// <exception cref="WasmValidationException">The module does not validate.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> fired before the module was ready.</exception>
    public WasmModule Compile(byte[] bytes, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        cancellation.ThrowIfCancellationRequested();
        var definition = ModuleDecoder.Decode(bytes, Options, cancellation);
        var functions = ModuleValidator.Validate(definition, Options, cancellation);
        return new WasmModule(definition, functions);
    }

    /// <summary>Instantiates <paramref name="module"/>, resolving imports through <paramref name="linker"/>, and runs its start function.</summary>
    /// <exception cref="WasmLinkException">An import is missing or has the wrong type.</exception>
    /// <exception cref="WasmTrapException">Segment initialisation or the start function trapped.</exception>
    public WasmInstance Instantiate(WasmModule module, WasmLinker? linker = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        return Instantiator.Instantiate(this, module, linker);
    }

    /// <summary>
    /// As <see cref="Instantiate"/>, for an instance whose whole memory a snapshot is about to replace
    /// (<see cref="Execution.InstanceSnapshot.Resume"/>): active data segments are bounds-checked and dropped as usual but not
    /// copied (CPython's are 3.3 MB, written only to be overwritten). A module with a start function is instantiated
    /// in full, since that function could read them.
    /// </summary>
    internal WasmInstance InstantiateForRestore(WasmModule module, WasmLinker? linker)
    {
        ArgumentNullException.ThrowIfNull(module);
        return Instantiator.Instantiate(this, module, linker, copyData: module.Definition.StartFunction is not null);
    }

    /// <summary>Creates a host function that modules can import.</summary>
    public WasmFunction CreateHostFunction(IEnumerable<WasmValueType> parameters, IEnumerable<WasmValueType> results, WasmHostFunction callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return new WasmFunction(this, new FunctionType([.. parameters], [.. results]), null, null, callback);
    }

    /// <summary>Creates a host-owned memory that modules can import.</summary>
    public WasmMemory CreateMemory(uint minPages, uint? maxPages) =>
        new(new Limits(minPages, maxPages), Options.MaxMemoryPages, Budget);

    /// <summary>Creates a host-owned table that modules can import.</summary>
    public WasmTable CreateTable(WasmValueType elementType, uint min, uint? max) =>
        new(new TableType(elementType, new Limits(min, max)), Options.MaxTableElements, Budget);

    /// <summary>Calls <paramref name="function"/> on the current thread.</summary>
    public WasmValue[] Invoke(WasmFunction function, params WasmValue[] args)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length != function.ParameterCount)
        {
            throw new ArgumentException($"expected {function.ParameterCount} arguments, got {args.Length}", nameof(args));
        }

        Span<ulong> raw = stackalloc ulong[Math.Max(args.Length, function.ResultCount)];
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].Type != function.Type.Parameters[i])
            {
                throw new ArgumentException($"argument {i} should be {function.Type.Parameters[i]}, got {args[i].Type}", nameof(args));
            }

            raw[i] = args[i].Bits;
        }

        Interpreter.Invoke(function, raw);
        var results = new WasmValue[function.ResultCount];
        for (var i = 0; i < results.Length; i++)
        {
            results[i] = new WasmValue(function.Type.Results[i], raw[i]);
        }

        return results;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a fresh thread whose stack is <see cref="WasmEngineOptions.ExecutionThreadStackBytes"/>,
    /// so deep guest recursion reaches the engine's call-depth limit (a trap) long before the host stack ends.
    /// Exceptions are rethrown on the calling thread.
    /// </summary>
    public T RunOnExecutionThread<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        T result = default!;
        Exception? error = null;
        var thread = new Thread(
            () =>
            {
                try
                {
                    result = work();
                }
#pragma warning disable CA1031 // Any failure is marshalled back to the caller, which rethrows it.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    error = e;
                }
            },
            Options.ExecutionThreadStackBytes)
        {
            IsBackground = true,
            Name = "wasm-execution",
        };
        thread.Start();
        thread.Join();
        if (error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        }

        return result;
    }

    internal int CanonicalTypeId(FunctionType type)
    {
        if (!_typeIds.TryGetValue(type, out var id))
        {
            id = _typeIds.Count;
            _typeIds.Add(type, id);
        }

        return id;
    }

    internal ulong RegisterFunction(WasmFunction function)
    {
        if (_functionCount == FunctionsByHandle.Length)
        {
            Array.Resize(ref FunctionsByHandle, FunctionsByHandle.Length * 2);
        }

        FunctionsByHandle[_functionCount++] = function;
        return (ulong)_functionCount;
    }

}
