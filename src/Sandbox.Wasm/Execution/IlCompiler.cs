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
    private static readonly Type[] s_parameters = [typeof(Interpreter), typeof(WasmInstance), typeof(int), typeof(int)];

    /// <summary>Compiles <paramref name="function"/>, or returns null when it stays interpreted.</summary>
    public static CompiledCode? TryCompile(CompiledFunction function, int maxInstructions)
    {
        if (function.Module is null || function.Code.Length > maxInstructions)
        {
            return null;
        }

        var plain = function.Unfused is { } retranslate ? retranslate() : function;
        if (plain.Code.Length > maxInstructions)
        {
            return null;
        }

        try
        {
            var method = new DynamicMethod("wasm", typeof(void), s_parameters, typeof(IlCompiler).Module, skipVisibility: true);
            new Emitter(plain, function.Module, method.GetILGenerator(plain.Code.Length * 24)).Emit();
            return method.CreateDelegate<CompiledCode>();
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }
}
