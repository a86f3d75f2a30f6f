using System.Reflection;
using System.Reflection.Emit;
using EmitOpCode = System.Reflection.Emit.OpCode;

namespace Sandbox.Wasm.Execution;

/// <summary>
/// An <see cref="ILGenerator"/> that also counts what the .NET JIT counts before it decides whether to optimise a method:
/// IL instructions, local and argument references, and basic blocks (bounded above by the labels marked plus the
/// branches, switch arms and returns). Past any of its fixed limits (<see cref="FitsJitOptimizer"/>) the JIT compiles the
/// whole method unoptimised ("switched MinOpts"); the IL tier's own estimates (IL bytes, frame-slot references) missed
/// two of CPython's hot methods by a few percent, and those ran at MinOpts speed (7% of the 300k loop in perf).
/// </summary>
internal sealed class MeteredIl(ILGenerator il)
{
    // The JIT's DEFAULT_MIN_OPTS_* limits (src/coreclr/jit/compiler.h, constants in a release runtime), less a tenth: the
    // JIT adds a few temporaries and blocks of its own while importing.
    private const int MaxIlBytes = 54_000;
    private const int MaxInstructions = 18_000;
    private const int MaxBlocks = 1_800;
    private const int MaxLocalReferences = 7_200;

    public int Instructions { get; private set; }

    public int LocalReferences { get; private set; }

    public int Blocks { get; private set; }

    public int ILOffset => il.ILOffset;

    /// <summary>Whether the method emitted so far stays under every limit past which the JIT does not optimise it.</summary>
    public bool FitsJitOptimizer =>
        il.ILOffset <= MaxIlBytes && Instructions <= MaxInstructions && Blocks <= MaxBlocks && LocalReferences <= MaxLocalReferences;

    public LocalBuilder DeclareLocal(Type type) => il.DeclareLocal(type);

    public Label DefineLabel() => il.DefineLabel();

    public void MarkLabel(Label label)
    {
        Blocks++;
        il.MarkLabel(label);
    }

    public void Emit(EmitOpCode op)
    {
        Count(op);
        il.Emit(op);
    }

    public void Emit(EmitOpCode op, byte arg)
    {
        Count(op);
        il.Emit(op, arg);
    }

    public void Emit(EmitOpCode op, int arg)
    {
        Count(op);
        il.Emit(op, arg);
    }

    public void Emit(EmitOpCode op, long arg)
    {
        Count(op);
        il.Emit(op, arg);
    }

    public void Emit(EmitOpCode op, LocalBuilder local)
    {
        Count(op);
        il.Emit(op, local);
    }

    public void Emit(EmitOpCode op, Label label)
    {
        Count(op);
        il.Emit(op, label);
    }

    public void Emit(EmitOpCode op, Label[] labels)
    {
        Count(op);
        Blocks += labels.Length;
        il.Emit(op, labels);
    }

    public void Emit(EmitOpCode op, MethodInfo method)
    {
        Count(op);
        il.Emit(op, method);
    }

    public void Emit(EmitOpCode op, FieldInfo field)
    {
        Count(op);
        il.Emit(op, field);
    }

    public void Emit(EmitOpCode op, Type type)
    {
        Count(op);
        il.Emit(op, type);
    }

    private void Count(EmitOpCode op)
    {
        Instructions++;
        if (op.FlowControl is FlowControl.Branch or FlowControl.Cond_Branch or FlowControl.Return or FlowControl.Throw)
        {
            Blocks++;
        }

        // ldloc, stloc, ldloca, ldarg, starg, ldarga in every encoding (short, long and the numbered forms).
        if (op.OperandType is OperandType.InlineVar or OperandType.ShortInlineVar
            || (op.Size == 1 && op.Value is >= 0x02 and <= 0x0D))
        {
            LocalReferences++;
        }
    }
}
