namespace Sandbox.Wasm.Execution;

/// <summary>Where a guest caller resumes when its guest callee returns.</summary>
internal struct CallFrame
{
    public WasmFunction Function;
    public int Pc;
    public int Fp;
}
