namespace Sandbox.Wasm.Execution;

/// <summary>
/// A function compiled to IL by <see cref="IlCompiler"/>. Same calling convention as the interpreter: the
/// arguments are in the value stack at <paramref name="fp"/> and the results are left there. The instance is an
/// argument (not baked in) so one compiled body serves every instance of its module. <paramref name="entryLoop"/>
/// is 0 for a call; k &gt; 0 enters the k-th loop header (in code order) of a frame the interpreter has been running
/// (on-stack replacement): locals and operands are then read from the value stack at <paramref name="fp"/>, and the
/// call's entry work (depth, entry fuel) is not repeated because the interpreter already did it. -1 returns at once:
/// IlCompiler calls that once so the JIT compiles the method (or rejects it) before any guest code runs in it.
/// </summary>
internal delegate void CompiledCode(Interpreter runtime, WasmInstance instance, int fp, int entryLoop);
