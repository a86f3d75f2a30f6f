namespace Sandbox.Wasm.Execution;

/// <summary>
/// A function compiled to IL by <see cref="IlCompiler"/>. Same calling convention as the interpreter: the
/// arguments are in the value stack at <paramref name="fp"/> and the results are left there. The instance is an
/// argument (not baked in) so one compiled body serves every instance of its module.
/// </summary>
internal delegate void CompiledCode(Interpreter runtime, WasmInstance instance, int fp);
