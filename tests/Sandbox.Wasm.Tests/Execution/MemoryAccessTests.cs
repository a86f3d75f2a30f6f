using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Execution;

/// <summary>
/// Loads and stores the IL tier emits in place (not through helper calls): every width and extension reads what the
/// interpreter reads, traps at the same byte, and never reaches past the memory's array even if its length were wrong.
/// </summary>
public sealed class MemoryAccessTests
{
    private const int PageBytes = 65536;

    private static (WasmEngine Engine, WasmInstance Instance) Instantiate(bool compiled)
    {
        var engine = new WasmEngine(compiled
            ? new WasmEngineOptions { CompileThreshold = 1, CompileLoopThreshold = 1 }
            : new WasmEngineOptions { UseCompiler = false });
        var instance = Fixture.Instantiate(engine, "memory-access");
        var memory = instance.Memory.ShouldNotBeNull().Span;
        for (var i = 0; i < memory.Length; i++)
        {
            // Every byte differs from its neighbours and half have the sign bit set, so a wrong width or extension shows.
            memory[i] = unchecked((byte)((i * 167) + 0x5B));
        }

        return (engine, instance);
    }

    private static WasmValue Call(WasmInstance instance, string export, params WasmValue[] args) => instance.Invoke(export, args)[0];

    public static TheoryData<string, int> Loads => new()
    {
        { "i32_load", 4 }, { "i64_load", 8 }, { "i32_load8_s", 1 }, { "i32_load8_u", 1 }, { "i32_load16_s", 2 },
        { "i32_load16_u", 2 }, { "i64_load8_s", 1 }, { "i64_load16_s", 2 }, { "i64_load32_s", 4 }, { "i64_load32_u", 4 },
        { "f64_load_bits", 8 },
    };

    [Theory]
    [MemberData(nameof(Loads))]
    public void Load_EveryWidthAndExtension_ReadsWhatTheInterpreterReadsAndTrapsAtTheSameByte(string export, int width)
    {
        var (engine, compiled) = Instantiate(compiled: true);
        var (_, interpreted) = Instantiate(compiled: false);

        foreach (var address in new[] { 0, 1, 127, 128, 4093, PageBytes - width })
        {
            Call(compiled, export, WasmValue.I32(address)).ShouldBe(Call(interpreted, export, WasmValue.I32(address)), $"{export} at {address}");
        }

        engine.Interpreter.CompiledFunctionCount.ShouldBeGreaterThan(0, "the loads ran in the IL tier");
        foreach (var address in new[] { PageBytes - width + 1, PageBytes, -1 })
        {
            Should.Throw<WasmTrapException>(() => Call(compiled, export, WasmValue.I32(address))).Kind.ShouldBe(WasmTrapKind.OutOfBoundsMemoryAccess);
            Should.Throw<WasmTrapException>(() => Call(interpreted, export, WasmValue.I32(address))).Kind.ShouldBe(WasmTrapKind.OutOfBoundsMemoryAccess);
        }
    }

    [Fact]
    public void Load_StaticOffset_IsAddedWithoutWrapping()
    {
        var (_, instance) = Instantiate(compiled: true);

        Call(instance, "i32_load_offset", WasmValue.I32(0)).ShouldBe(Call(instance, "i32_load", WasmValue.I32(PageBytes - 4)));
        Should.Throw<WasmTrapException>(() => Call(instance, "i32_load_offset", WasmValue.I32(1))).Kind.ShouldBe(WasmTrapKind.OutOfBoundsMemoryAccess);
        // 0xFFFFFFFF + 65532 would be 65531 in 32 bits; the effective address is 33 bits wide.
        Should.Throw<WasmTrapException>(() => Call(instance, "i32_load_offset", WasmValue.I32(-1))).Kind.ShouldBe(WasmTrapKind.OutOfBoundsMemoryAccess);
    }

    [Fact]
    public void Store_EachWidth_WritesOnlyItsBytesAndAnOutOfBoundsOneWritesNothing()
    {
        var (_, compiled) = Instantiate(compiled: true);
        var (_, interpreted) = Instantiate(compiled: false);
        foreach (var instance in new[] { compiled, interpreted })
        {
            instance.Invoke("i64_store", WasmValue.I32(64), WasmValue.I64(0x0102030405060708));
            instance.Invoke("i32_store16", WasmValue.I32(65), WasmValue.I32(unchecked((int)0xFFFFAAAA)));
            instance.Invoke("i64_store32", WasmValue.I32(68), WasmValue.I64(unchecked((long)0xFFFFFFFF_BBCCDDEE)));
            instance.Invoke("i32_store8", WasmValue.I32(71), WasmValue.I32(0x1FF));
            Should.Throw<WasmTrapException>(() => instance.Invoke("i64_store", WasmValue.I32(PageBytes - 7), WasmValue.I64(-1)));
        }

        Call(compiled, "i64_load", WasmValue.I32(64)).AsI64().ShouldBe(unchecked((long)0xFFCCDDEE_05AAAA08));
        Call(compiled, "i64_load", WasmValue.I32(64)).ShouldBe(Call(interpreted, "i64_load", WasmValue.I32(64)));
        compiled.Memory!.Span[(PageBytes - 8)..].ToArray().ShouldBe(interpreted.Memory!.Span[(PageBytes - 8)..].ToArray(), "a trapping store writes no byte");
    }

    [Fact]
    public void Load_LengthWronglyPastTheArray_NeverReadsBeyondIt()
    {
        var (_, instance) = Instantiate(compiled: true);
        Call(instance, "i32_load", WasmValue.I32(0));
        var memory = instance.Memory!;

        // A bug that made the guest-visible length exceed the array must not turn into a read of the heap beyond it:
        // the array's own bounds are checked as well, as the span in the helper calls did.
        memory.ByteLength = memory.Buffer.Length + 8;
        var thrown = Should.Throw<Exception>(() => Call(instance, "i32_load", WasmValue.I32(memory.Buffer.Length - 2)));
        (thrown as IndexOutOfRangeException ?? thrown.InnerException as IndexOutOfRangeException).ShouldNotBeNull(thrown.ToString());
    }
}
