namespace Sandbox.Wasm.Execution.Tests;

/// <summary><see cref="WasmEngine.InstantiateForRestore"/>: data segments are checked and dropped as usual, only not copied.</summary>
public sealed class InstantiatorTests
{
    /// <summary>One page of memory; an active data segment "hi" at <paramref name="offset"/> (a 3-byte signed LEB128 i32.const).</summary>
    private static byte[] DataModule(int offset) =>
    [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
        0x05, 0x03, 0x01, 0x00, 0x01,
        0x0b, 0x0a, 0x01, 0x00, 0x41, (byte)(0x80 | (offset & 0x7f)), (byte)(0x80 | ((offset >> 7) & 0x7f)), (byte)((offset >> 14) & 0x7f), 0x0b, 0x02, (byte)'h', (byte)'i',
    ];

    [Fact]
    public void InstantiateForRestore_DataSegment_IsDroppedWithoutItsBytes()
    {
        var engine = new WasmEngine();
        var module = engine.Compile(DataModule(16), TestContext.Current.CancellationToken);

        var full = engine.Instantiate(module);
        full.Memory!.Span[16..18].ToArray().ShouldBe("hi"u8.ToArray());

        var restoring = engine.InstantiateForRestore(module, linker: null);
        restoring.Memory!.Span.ContainsAnyExcept((byte)0).ShouldBeFalse("the snapshot replaces the memory whole");
        restoring.DataSegments.ShouldAllBe(d => d.Length == 0, "an active segment is dropped as after a full instantiation");
    }

    [Fact]
    public void InstantiateForRestore_SegmentPastTheMemory_StillTraps()
    {
        var engine = new WasmEngine();
        var module = engine.Compile(DataModule(65_535), TestContext.Current.CancellationToken);
        Should.Throw<WasmTrapException>(() => engine.Instantiate(module)).Kind.ShouldBe(WasmTrapKind.OutOfBoundsMemoryAccess);
        Should.Throw<WasmTrapException>(() => engine.InstantiateForRestore(module, linker: null)).Kind.ShouldBe(WasmTrapKind.OutOfBoundsMemoryAccess);
    }

    /// <summary>As <see cref="DataModule"/> at offset 16, with an empty start function (which could have read the segment).</summary>
    private static byte[] StartModule() =>
    [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
        0x03, 0x02, 0x01, 0x00,
        0x05, 0x03, 0x01, 0x00, 0x01,
        0x08, 0x01, 0x00,
        0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
        0x0b, 0x0a, 0x01, 0x00, 0x41, 0x90, 0x80, 0x00, 0x0b, 0x02, (byte)'h', (byte)'i',
    ];

    [Fact]
    public void InstantiateForRestore_MemoryIsZero_OnlyWhenNothingWroteIt()
    {
        // The restore leaves the snapshot's empty pages unread on this flag's word: a page it wrongly trusted would keep bytes the snapshot never had.
        var engine = new WasmEngine();
        var data = engine.Compile(DataModule(16), TestContext.Current.CancellationToken);
        engine.InstantiateForRestore(data, linker: null).MemoryIsZero.ShouldBeTrue();
        engine.Instantiate(data).MemoryIsZero.ShouldBeFalse("its data segment was copied");

        var start = engine.Compile(StartModule(), TestContext.Current.CancellationToken);
        var restoring = engine.InstantiateForRestore(start, linker: null);
        restoring.MemoryIsZero.ShouldBeFalse("a start function ran, so the segment was copied for it");
        restoring.Memory!.Span[16..18].ToArray().ShouldBe("hi"u8.ToArray());
    }
}
