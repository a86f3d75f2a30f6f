using System.Runtime.InteropServices;

namespace Sandbox.Wasm.Execution;

/// <summary>
/// One pre-decoded instruction of the internal form: an <see cref="OpCode"/> and two inline immediates.
/// Branch targets are absolute indices into the function's instruction array; <see cref="B"/> holds
/// 64-bit constants, memory offsets, or a packed (arity &lt;&lt; 32 | target height) for branches that move values.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Instruction
{
    public int Op;
    public int A;
    public long B;

    public Instruction(int op, int a, long b)
    {
        Op = op;
        A = a;
        B = b;
    }

    public override readonly string ToString() => $"{OpCode.Name(Op)} {A} {B}";
}
