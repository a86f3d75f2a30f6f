namespace Sandbox.Wasm.Tests.Conformance;

/// <summary>The "spectest" host module as the reference interpreter defines it.</summary>
internal static class SpecTestHost
{
    public static void Define(WasmEngine engine, WasmLinker linker)
    {
        static void Print(WasmCallContext context, Span<ulong> stack)
        {
        }

        const WasmValueType I32 = WasmValueType.I32;
        const WasmValueType I64 = WasmValueType.I64;
        const WasmValueType F32 = WasmValueType.F32;
        const WasmValueType F64 = WasmValueType.F64;
        linker.Define("spectest", "print", engine.CreateHostFunction([], [], Print));
        linker.Define("spectest", "print_i32", engine.CreateHostFunction([I32], [], Print));
        linker.Define("spectest", "print_i64", engine.CreateHostFunction([I64], [], Print));
        linker.Define("spectest", "print_f32", engine.CreateHostFunction([F32], [], Print));
        linker.Define("spectest", "print_f64", engine.CreateHostFunction([F64], [], Print));
        linker.Define("spectest", "print_i32_f32", engine.CreateHostFunction([I32, F32], [], Print));
        linker.Define("spectest", "print_f64_f64", engine.CreateHostFunction([F64, F64], [], Print));
        linker.Define("spectest", "global_i32", new WasmGlobal(WasmValue.I32(666), mutable: false));
        linker.Define("spectest", "global_i64", new WasmGlobal(WasmValue.I64(666), mutable: false));
        linker.Define("spectest", "global_f32", new WasmGlobal(WasmValue.F32(666.6f), mutable: false));
        linker.Define("spectest", "global_f64", new WasmGlobal(WasmValue.F64(666.6), mutable: false));
        linker.Define("spectest", "table", engine.CreateTable(WasmValueType.FuncRef, 10, 20));
        linker.Define("spectest", "memory", engine.CreateMemory(1, 2));
    }
}
