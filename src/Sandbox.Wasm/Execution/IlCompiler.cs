using System.Reflection;
using System.Reflection.Emit;

namespace Sandbox.Wasm.Execution;

/// <summary>
/// The IL tier: compiles one validated, translated function (its plain, unfused form) to a
/// <see cref="DynamicMethod"/> that the .NET JIT turns into machine code. Every frame slot (parameter, local,
/// operand position) becomes an IL local of type ulong: validation fixed the operand height at each reachable
/// instruction, so operand positions are known statically and the JIT can keep hot values in registers.
/// Semantics come from shared helpers (<see cref="JitOps"/> for numeric operations, loads and stores;
/// <see cref="Interpreter"/>'s compiled seam for calls, fuel, interruption and depth), so both tiers trap,
/// charge fuel and stop identically. Managed, verifiable-style IL only: memory is a byte[] indexed through
/// bounds-checked spans, never a pointer. Anything unexpected makes the compiler decline (null): the function
/// stays interpreted.
/// </summary>
internal static partial class IlCompiler
{
    /// <summary>
    /// A compiled method's parameters: first an unused object, to which its delegate is bound (<see cref="s_closure"/>),
    /// then the delegate's own. A delegate bound to its first argument calls its method directly; an open one, to a
    /// static method, goes through a shuffle thunk that moves every argument down one register (4% of CPython's loop
    /// in perf, at every call and every region change).
    /// </summary>
    private static readonly Type[] s_parameters = [typeof(object), typeof(Interpreter), typeof(WasmInstance), typeof(int), typeof(int)];

    private static readonly object s_closure = new();

    /// <summary>Compiles <paramref name="function"/>, or returns null when it stays interpreted (unsupported, or over
    /// <paramref name="maxInstructions"/> or <paramref name="maxWork"/>, see <see cref="WasmEngineOptions.CompileMaxWork"/>).</summary>
    public static CompiledCode? TryCompile(CompiledFunction function, int maxInstructions, int maxWork, int regionIlBytes = int.MaxValue)
    {
        // Checked on the form the interpreter runs first, so an oversized function is not even re-translated.
        if (function.Module is null || function.Code.Length > maxInstructions || Work(function) > maxWork)
        {
            return null;
        }

        var plain = function.Unfused is { } retranslate ? retranslate() : function;
        if (plain.Code.Length > maxInstructions || Work(plain) > maxWork)
        {
            return null;
        }

        try
        {
            var method = new DynamicMethod("wasm", typeof(void), s_parameters, typeof(IlCompiler).Module, skipVisibility: true);
            var gen = method.GetILGenerator(plain.Code.Length * 24);
            var whole = new Emitter(plain, function.Module, gen);
            whole.Emit();

            // Over the JIT's limits for optimising one method (see IlCompiler.Regions), or over the region size asked for:
            // several methods instead.
            if (!whole.FitsJitOptimizer || gen.ILOffset > regionIlBytes * 5L / 2 || whole.SlotRefs[plain.Code.Length] > regionIlBytes * 3L / 10)
            {
                return CompileRegions(plain, function.Module, whole, regionIlBytes);
            }

            // Compiled now by the probe (entry -1 returns at once), so a method the JIT rejects is declined here, before
            // any of it runs, and a running body never meets an InvalidProgramException from a callee's first call.
            ((CompiledCode)method.CreateDelegate(typeof(CompiledCode), s_closure))(null!, null!, 0, -1);
            return (CompiledCode)BindCompiled(method, typeof(CompiledCode));
        }
        catch (NotSupportedException)
        {
            return null;
        }
        catch (InvalidProgramException)
        {
            // The JIT rejected the method (or a region) at its probe: nothing ran, the function stays interpreted.
            return null;
        }
    }

    /// <summary>
    /// A delegate to <paramref name="method"/>, which the JIT has already compiled: a delegate made before that points at
    /// the method's precode stub (one more indirect jump at every call, 2% of CPython's loop in perf), one made after at
    /// its machine code.
    /// </summary>
    private static Delegate BindCompiled(DynamicMethod method, Type delegateType) => method.CreateDelegate(delegateType, s_closure);

    /// <summary>
    /// What compiling <paramref name="function"/> costs, in units the JIT's time and memory follow: one per instruction,
    /// plus every frame slot once for the IL locals and once more per loop header (each is an on-stack-replacement entry
    /// that reloads the whole frame). Bounding this, not the instruction count alone, keeps a few hundred bytes of
    /// module (many locals, many empty loops) from costing the host minutes and gigabytes in the JIT.
    /// </summary>
    internal static long Work(CompiledFunction function)
    {
        var code = function.Code;
        long loops = 0;
        for (var pc = 0; pc < code.Length; pc++)
        {
            if (code[pc].Op == OpCode.LoopHeader)
            {
                loops++;
            }
            else if (code[pc].Op == OpCode.BrTable)
            {
                pc += code[pc].A + 1;
            }
        }

        return code.Length + ((long)function.MaxHeight * (loops + 1));
    }
}
