using System.Diagnostics;
using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Decoding;

public sealed class ModuleDecoderTests
{
    private static readonly TimeSpan s_fast = TimeSpan.FromSeconds(2);

    [Fact]
    public void Compile_DeeplyNestedBlocks_RejectedFastWithLimitError()
    {
        var engine = new WasmEngine();
        var watch = Stopwatch.StartNew();

        var error = Should.Throw<WasmDecodeException>(() => engine.Compile(HostileModules.DeeplyNestedBlocks(200_000)));

        error.IsLimit.ShouldBeTrue();
        error.Message.ShouldContain(nameof(WasmEngineOptions.MaxBlockDepth));
        watch.Elapsed.ShouldBeLessThan(s_fast);
    }

    [Fact]
    public void Compile_NestingWithinCap_Accepted()
    {
        var engine = new WasmEngine(new WasmEngineOptions { MaxBlockDepth = 600 });

        var module = engine.Compile(HostileModules.DeeplyNestedBlocks(500));

        module.ShouldNotBeNull();
    }

    [Fact]
    public void Compile_FourBillionLocals_RejectedBeforeAllocation()
    {
        var engine = new WasmEngine();
        var watch = Stopwatch.StartNew();

        var error = Should.Throw<WasmDecodeException>(() => engine.Compile(HostileModules.FourBillionLocals()));

        error.Message.ShouldContain("too many locals");
        watch.Elapsed.ShouldBeLessThan(s_fast);
    }

    [Fact]
    public void Compile_LocalsOverCap_RejectedWithLimitError()
    {
        var engine = new WasmEngine(new WasmEngineOptions { MaxLocals = 1000 });

        var error = Should.Throw<WasmDecodeException>(() => engine.Compile(HostileModules.ManyLocals(1001)));

        error.IsLimit.ShouldBeTrue();
        error.Message.ShouldContain(nameof(WasmEngineOptions.MaxLocals));
    }

    [Fact]
    public void Compile_ManyFunctionsEachUnderLocalsCap_RejectedByModuleCapBeforeAllocating()
    {
        // Issue 10: 2,000 functions of 50,000 locals each (every one within MaxLocals) grew the host by 87 MB at load.
        var engine = new WasmEngine();
        var bytes = HostileModules.ManyFunctionsWithLocals(2_000, 50_000);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();

        var error = Should.Throw<WasmDecodeException>(() => engine.Compile(bytes));

        error.IsLimit.ShouldBeTrue();
        error.Message.ShouldContain(nameof(WasmEngineOptions.MaxTotalLocals));
        watch.Elapsed.ShouldBeLessThan(s_fast);
        (GC.GetAllocatedBytesForCurrentThread() - allocated).ShouldBeLessThan(8L * 1024 * 1024);
    }

    [Fact]
    public void Compile_ModuleLocalsWithinCap_Accepted()
    {
        var engine = new WasmEngine(new WasmEngineOptions { MaxTotalLocals = 2_000 });

        engine.Compile(HostileModules.ManyFunctionsWithLocals(20, 100)).ShouldNotBeNull();
        Should.Throw<WasmDecodeException>(() => engine.Compile(HostileModules.ManyFunctionsWithLocals(21, 100))).IsLimit.ShouldBeTrue();
    }

    [Fact]
    public void Compile_TypeCountLargerThanSection_RejectedBeforeAllocation()
    {
        var engine = new WasmEngine(new WasmEngineOptions { MaxTypes = int.MaxValue });
        var watch = Stopwatch.StartNew();

        Should.Throw<WasmDecodeException>(() => engine.Compile(HostileModules.HugeTypeCount()));

        watch.Elapsed.ShouldBeLessThan(s_fast);
    }

    [Fact]
    public void Compile_TypeCountOverCap_RejectedWithLimitError()
    {
        var engine = new WasmEngine();

        var error = Should.Throw<WasmDecodeException>(() => engine.Compile(HostileModules.HugeTypeCount()));

        error.IsLimit.ShouldBeTrue();
        error.Message.ShouldContain(nameof(WasmEngineOptions.MaxTypes));
    }

    [Fact]
    public void Compile_BrTableClaimingFourBillionTargets_RejectedFast()
    {
        var engine = new WasmEngine();
        var watch = Stopwatch.StartNew();

        Should.Throw<WasmDecodeException>(() => engine.Compile(HostileModules.HugeBrTable()));

        watch.Elapsed.ShouldBeLessThan(s_fast);
    }

    [Fact]
    public void Compile_BodyOverSizeCap_RejectedWithLimitError()
    {
        var engine = new WasmEngine(new WasmEngineOptions { MaxFunctionBodyBytes = 1000 });

        var error = Should.Throw<WasmDecodeException>(() => engine.Compile(HostileModules.LargeBody(2000)));

        error.IsLimit.ShouldBeTrue();
        error.Message.ShouldContain(nameof(WasmEngineOptions.MaxFunctionBodyBytes));
    }

    [Fact]
    public void Compile_ModuleOverSizeCap_RejectedWithLimitError()
    {
        var engine = new WasmEngine(new WasmEngineOptions { MaxModuleBytes = 100 });

        var error = Should.Throw<WasmDecodeException>(() => engine.Compile(HostileModules.LargeBody(200)));

        error.IsLimit.ShouldBeTrue();
        error.Message.ShouldContain(nameof(WasmEngineOptions.MaxModuleBytes));
    }

    [Fact]
    public void Compile_ImportsOverCap_RejectedWithLimitError()
    {
        var engine = new WasmEngine(new WasmEngineOptions { MaxImports = 10 });

        var error = Should.Throw<WasmDecodeException>(() => engine.Compile(HostileModules.ManyImports(11)));

        error.IsLimit.ShouldBeTrue();
        error.Message.ShouldContain(nameof(WasmEngineOptions.MaxImports));
    }

    [Fact]
    public void Compile_TruncatedModule_Malformed()
    {
        var bytes = HostileModules.LargeBody(10);
        var engine = new WasmEngine();

        var error = Should.Throw<WasmDecodeException>(() => engine.Compile(bytes[..^3]));

        error.IsLimit.ShouldBeFalse();
    }

    [Fact]
    public void Compile_RepeatedWideMultiValueBlocks_RefusedFastWithLimitError()
    {
        var engine = new WasmEngine();
        var watch = Stopwatch.StartNew();

        var error = Should.Throw<WasmDecodeException>(() => engine.Compile(HostileModules.RepeatedWideBlocks(200_000)));

        error.IsLimit.ShouldBeTrue();
        error.Message.ShouldContain("validation work");
        watch.Elapsed.ShouldBeLessThan(s_fast);
    }

    [Fact]
    public void Compile_FewWideMultiValueBlocks_Accepted()
    {
        var engine = new WasmEngine();

        engine.Compile(HostileModules.RepeatedWideBlocks(10)).ShouldNotBeNull();
    }

    [Fact]
    public void Compile_BrTableWithMillionTargetsToWideLabel_ValidatesFast()
    {
        var engine = new WasmEngine();
        var watch = Stopwatch.StartNew();

        engine.Compile(HostileModules.WideBrTable(1_000_000)).ShouldNotBeNull();

        watch.Elapsed.ShouldBeLessThan(s_fast);
    }
}
