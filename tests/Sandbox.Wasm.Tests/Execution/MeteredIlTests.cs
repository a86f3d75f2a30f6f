using System.Reflection.Emit;
using Sandbox.Wasm.Execution;

namespace Sandbox.Wasm.Tests.Execution;

/// <summary>
/// MeteredIl counts what the .NET JIT counts before it decides to optimise a method; a count too low leaves a hot guest
/// function "switched MinOpts" (CPython's loop had two such methods before it), so every encoding of a local or argument
/// reference must count, and the method must stop fitting before the JIT's own limits.
/// </summary>
public sealed class MeteredIlTests
{
    private static MeteredIl NewIl() =>
        new(new DynamicMethod("metered", typeof(void), [typeof(object)], typeof(MeteredIlTests).Module).GetILGenerator());

    [Fact]
    public void CountsEveryEncodingOfLocalAndArgumentReferences()
    {
        var il = NewIl();
        var local = il.DeclareLocal(typeof(long));
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Pop);
        il.Emit(OpCodes.Ldarg_S, (byte)0);
        il.Emit(OpCodes.Pop);
        il.Emit(OpCodes.Ldc_I8, 1L);
        il.Emit(OpCodes.Stloc, local);
        il.Emit(OpCodes.Ldloc, local);
        il.Emit(OpCodes.Pop);
        il.Emit(OpCodes.Ldloca, local);
        il.Emit(OpCodes.Pop);
        il.Emit(OpCodes.Ret);

        Assert.Equal(5, il.LocalReferences);
        Assert.Equal(11, il.Instructions);
        Assert.True(il.FitsJitOptimizer);
    }

    [Fact]
    public void StopsFittingBeforeTheJitsLocalReferenceLimit()
    {
        // The JIT's limit is 8,000 local references; 7,500 (with as many pops, under its 20,000 instructions) already do not fit.
        var il = NewIl();
        for (var i = 0; i < 7_500; i++)
        {
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Pop);
        }

        Assert.False(il.FitsJitOptimizer);
    }

    [Fact]
    public void StopsFittingBeforeTheJitsInstructionLimit()
    {
        var il = NewIl();
        for (var i = 0; i < 19_000; i++)
        {
            il.Emit(OpCodes.Nop);
        }

        Assert.Equal(0, il.LocalReferences);
        Assert.False(il.FitsJitOptimizer);
    }
}
