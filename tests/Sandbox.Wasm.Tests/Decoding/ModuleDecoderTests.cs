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

        var module = engine.Compile(HostileModules.DeeplyNestedBlocks(500), TestContext.Current.CancellationToken);

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

        engine.Compile(HostileModules.ManyFunctionsWithLocals(20, 100), TestContext.Current.CancellationToken).ShouldNotBeNull();
        Should.Throw<WasmDecodeException>(() => engine.Compile(HostileModules.ManyFunctionsWithLocals(21, 100))).IsLimit.ShouldBeTrue();
    }

    [Fact]
    public void Compile_DeadlineFiresWhileLoading_StopsPromptlyHavingAllocatedLittle()
    {
        // Issue 10: loading happens before any guest code runs, so it must stop at the run's deadline too. The
        // baseline load of this module (13 MB of ordinary code) is timed first; the deadline then fires at a tenth.
        var bytes = HostileModules.ManyBusyFunctions(150_000, 30);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        new WasmEngine().Compile(bytes, TestContext.Current.CancellationToken);
        var full = watch.Elapsed;
        var fullBytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
        using var deadline = new CancellationTokenSource();

        // The deadline fires from a thread of its own, not a timer: a timer's callback waits for a thread-pool thread,
        // and with the suite's other tests busy that wait (not the engine) was what CI measured. What is asserted is the
        // time from the cancellation to the engine's stop.
        allocated = GC.GetAllocatedBytesForCurrentThread();
        watch.Restart();
        var cancelledAt = TimeSpan.Zero;
        var canceller = new Thread(() =>
        {
            Thread.Sleep(full / 10);
            cancelledAt = watch.Elapsed;
            deadline.Cancel();
        }) { IsBackground = true };
        canceller.Start();
        Should.Throw<OperationCanceledException>(() => new WasmEngine().Compile(bytes, deadline.Token));
        var stoppedAt = watch.Elapsed;
        canceller.Join();

        (stoppedAt - cancelledAt).ShouldBeLessThan(full / 2, $"a full load took {full}; cancelled at {cancelledAt}, stopped at {stoppedAt}");
        (GC.GetAllocatedBytesForCurrentThread() - allocated).ShouldBeLessThan(fullBytes / 2);
    }

    [Fact]
    public void Compile_TokenAlreadyCancelled_ThrowsBeforeDecoding()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Should.Throw<OperationCanceledException>(() => new WasmEngine().Compile(HostileModules.ManyBusyFunctions(10, 1), cancelled.Token));
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

        engine.Compile(HostileModules.RepeatedWideBlocks(10), TestContext.Current.CancellationToken).ShouldNotBeNull();
    }

    [Fact]
    public void Compile_BrTableWithMillionTargetsToWideLabel_ValidatesFast()
    {
        var engine = new WasmEngine();
        var watch = Stopwatch.StartNew();

        engine.Compile(HostileModules.WideBrTable(1_000_000), TestContext.Current.CancellationToken).ShouldNotBeNull();

        watch.Elapsed.ShouldBeLessThan(s_fast);
    }
}
