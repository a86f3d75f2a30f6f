namespace Sandbox.Wasm;

/// <summary>
/// Caps and knobs for one <see cref="WasmEngine"/>. Every cap exists so that a hostile module is
/// rejected (at decode time) or stopped (at run time) quickly with a clear error instead of
/// stalling or exhausting the host. Defaults fit CPython on WASI (about 7 MB, 15k functions, a few
/// thousand table entries, 32+ MiB of memory) with room to spare, while a module made only of
/// declarations stays within a few hundred MB of host memory.
/// </summary>
public sealed record WasmEngineOptions
{
    /// <summary>Largest accepted module binary, in bytes. Translation can expand a byte into one 16-byte
    /// instruction (br_table entries), so this also bounds translated code at 16 times its value.</summary>
    public int MaxModuleBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Most entries in the type section.</summary>
    public int MaxTypes { get; init; } = 100_000;

    /// <summary>Most functions (imported plus defined).</summary>
    public int MaxFunctions { get; init; } = 200_000;

    /// <summary>Most imports.</summary>
    public int MaxImports { get; init; } = 100_000;

    /// <summary>Most exports.</summary>
    public int MaxExports { get; init; } = 100_000;

    /// <summary>Most globals (imported plus defined).</summary>
    public int MaxGlobals { get; init; } = 100_000;

    /// <summary>Most tables (imported plus defined).</summary>
    public int MaxTables { get; init; } = 100;

    /// <summary>Most element or data segments, each.</summary>
    public int MaxSegments { get; init; } = 1_000_000;

    /// <summary>Most parameters or results in one function type.</summary>
    public int MaxFunctionTypeArity { get; init; } = 1_000;

    /// <summary>Largest function body, in bytes.</summary>
    public int MaxFunctionBodyBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Most locals (parameters included) in one function.</summary>
    public int MaxLocals { get; init; } = 50_000;

    /// <summary>Most declared locals summed over every function of a module. Without it a module of many functions
    /// that each declare <see cref="MaxLocals"/> locals costs the host memory out of all proportion to its size
    /// (2,000 such functions grew the host by 87 MB while loading); CPython needs a small fraction of the default.</summary>
    public int MaxTotalLocals { get; init; } = 2_000_000;

    /// <summary>Deepest nesting of block/loop/if in one function.</summary>
    public int MaxBlockDepth { get; init; } = 1_024;

    /// <summary>Most linear-memory pages (64 KiB each) a memory may ever have (default 256 MiB); memory.grow past it returns -1.
    /// A declared minimum above it is refused at instantiation, before anything is allocated.</summary>
    public int MaxMemoryPages { get; init; } = 4_096;

    /// <summary>Most elements a table may ever have; table.grow past it returns -1.</summary>
    public int MaxTableElements { get; init; } = 1_000_000;

    /// <summary>Most bytes all tables of the engine may allocate together (8 per element). Without it, 100 tables of
    /// <see cref="MaxTableElements"/> entries took 800 MB that no limit saw. table.grow past it returns -1; a module whose
    /// tables' minimums exceed it fails to instantiate. CPython needs a few thousand entries (tens of KB).</summary>
    public long MaxTableBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// When set, the bytes linear memories and tables allocate together never exceed it: the run's memory limit
    /// covers every guest-controlled array, not only linear memory. memory.grow and table.grow past it return -1
    /// (recorded as refused by the host cap); minimums past it fail instantiation. Null: only the per-kind caps apply.
    /// </summary>
    public long? MemoryBudgetBytes { get; init; }

    /// <summary>Deepest guest call stack; deeper calls trap with "call stack exhausted".</summary>
    public int MaxCallDepth { get; init; } = 20_000;

    /// <summary>Size of the value stack (locals and operands of all frames), in 8-byte slots.</summary>
    public int ValueStackSlots { get; init; } = 1 << 20;

    /// <summary>
    /// Fuse common instruction sequences into superinstructions when translating (faster interpretation).
    /// Off yields the plain one-to-one translated form: for debugging, differential tests, or a backend that
    /// wants the simple instruction set.
    /// </summary>
    public bool FuseInstructions { get; init; } = true;

    /// <summary>
    /// Validate and translate each function body on its first call instead of at <see cref="WasmEngine.Compile(byte[])"/>
    /// (module-level validation still comes first). Nothing runs unvalidated; an invalid body that is never called is
    /// never reported, and one that is called fails there with <see cref="WasmValidationException"/>. For a worker that
    /// resumes a snapshot of a large guest and calls a small part of it. A module compiled this way translates in place
    /// on first call, so it must be used by one engine thread at a time.
    /// </summary>
    public bool LazyTranslation { get; init; }

    /// <summary>
    /// Compile guest functions to IL that the .NET JIT turns into machine code (the IL tier), after
    /// <see cref="CompileThreshold"/> calls; off forces the interpreter for everything. Both tiers have the same
    /// semantics, fuel, interruption and depth limits; a function the compiler does not support stays interpreted.
    /// </summary>
    public bool UseCompiler { get; init; } = true;

    /// <summary>
    /// Calls after which a function is compiled (1: on its first call). High by default because the .NET JIT
    /// costs milliseconds per guest function: CPython's start-up calls thousands of functions a few times each,
    /// and compiling them all would cost more than interpreting them; only really hot code pays off. Measured
    /// end to end (`sandbox run --backend wasm --lang python`, print(1+1), 2 cores): 20 000/50 000 took 1.5–2.2 s,
    /// 200 000/200 000 took 1.0–1.1 s, the interpreter alone 1.0–1.3 s; the C kernels stay compiled either way.
    /// </summary>
    public int CompileThreshold { get; init; } = 200_000;

    /// <summary>Loop iterations (summed over a function's loops, while interpreted) after which a function is
    /// compiled and its running frame continues in the IL tier from the loop header it reached. Both thresholds grow
    /// with the function's size, one more time per 2,000 instructions (the JIT's cost grows likewise): CPython's eval
    /// loop waits for 7× as many.</summary>
    public int CompileLoopThreshold { get; init; } = 200_000;

    /// <summary>Fuel a function burns in its own body while interpreted (its callees' not counted), per unit of its
    /// compile cost (one per 64 units of <see cref="CompileMaxWork"/>'s measure, plus one), after which it is compiled
    /// at its next call; for functions of up to 2,000 instructions (larger ones wait for the call and loop thresholds).
    /// It compiles what burns time rather than what is called often: on CPython's 300k loop a function of 86
    /// instructions called about 7,000 times a run, tens of µs each, never reached <see cref="CompileThreshold"/> calls.
    /// Measured on CPython (2 cores, bench-wasm): at 600,000 a cold `print(1+1)` compiles 14 functions and costs what it
    /// did without this rule; 300,000 compiled 42 and cost it 0.1-0.3 s more CPU, 100,000 more still; 1,000,000 (6)
    /// left the loop as slow as before.</summary>
    public int CompileFuelThreshold { get; init; } = 600_000;

    /// <summary>Largest function (in translated instructions) the IL tier compiles; larger ones stay interpreted. A
    /// function this large is split into methods of <see cref="CompileRegionIlBytes"/> (the .NET JIT's time grows faster
    /// than linearly with one method's size, but only linearly with the number of regions), so this bounds the JIT's
    /// total time for one function (50,000 instructions: about 35 regions). CPython's eval loop is about 23,000.</summary>
    public int CompileMaxInstructions { get; init; } = 50_000;

    /// <summary>
    /// Largest compile work the IL tier takes on for one function: its translated instructions plus its frame slots
    /// (locals and operands) times one more than its loop headers, because every loop header is an on-stack
    /// replacement entry that reloads every slot, and the .NET JIT's time and memory grow with that product, not
    /// with the input size (50,000 locals and 200 loops, 659 bytes of module, ran 114 s in the JIT and took 23 GB).
    /// A function over it stays interpreted. Measured on 2 cores: 100,000 units compile in 0.2–0.7 s; 400,000 took
    /// 3 s and 1 GB of working set.
    /// </summary>
    public int CompileMaxWork { get; init; } = 100_000;

    /// <summary>
    /// IL bytes per .NET method when the IL tier splits a large function into regions (several methods, see
    /// IlCompiler.Regions). A function is split when its IL as one method would be over the JIT's fixed limits for
    /// optimising (60,000 bytes of IL, 8,000 local references, ...), at about 2.5 times this; each region stays under
    /// them, so the JIT optimises it instead of compiling it unoptimised ("MinOpts"). Tests set it tiny to split everything.
    /// </summary>
    public int CompileRegionIlBytes { get; init; } = 20_000;

    /// <summary>Stack size of the dedicated execution thread used by <see cref="WasmEngine.RunOnExecutionThread{T}"/>.</summary>
    public int ExecutionThreadStackBytes { get; init; } = 256 * 1024 * 1024;
}
