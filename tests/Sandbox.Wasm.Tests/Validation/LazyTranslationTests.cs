using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Validation.Tests;

/// <summary><see cref="WasmEngineOptions.LazyTranslation"/>: each body is validated and translated at its first call, and runs as it would eagerly.</summary>
public sealed class LazyTranslationTests
{
    /// <summary>Type () -> i32; export "a" returns i32.const 1; export "b" returns an i64 (does not validate).</summary>
    private static readonly byte[] s_oneInvalidBody =
    [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
        0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,
        0x03, 0x03, 0x02, 0x00, 0x00,
        0x07, 0x09, 0x02, 0x01, 0x61, 0x00, 0x00, 0x01, 0x62, 0x00, 0x01,
        0x0a, 0x0b, 0x02, 0x04, 0x00, 0x41, 0x01, 0x0b, 0x04, 0x00, 0x42, 0x01, 0x0b,
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Invoke_LazyModule_SameResultAndFuelAsEager(bool compileOnFirstCall)
    {
        long Run(bool lazy, out int result)
        {
            var engine = new WasmEngine(new WasmEngineOptions { LazyTranslation = lazy, CompileThreshold = compileOnFirstCall ? 1 : 200_000 });
            var instance = engine.Instantiate(engine.Compile(Fixture.Load("fuel-calls")));
            engine.Fuel = 10_000_000;
            result = instance.Invoke("f", WasmValue.I32(10))[0].AsI32();
            return engine.Fuel;
        }

        var eagerFuel = Run(lazy: false, out var eager);
        var lazyFuel = Run(lazy: true, out var lazy);

        eager.ShouldBe(55);
        lazy.ShouldBe(55);
        lazyFuel.ShouldBe(eagerFuel);
    }

    [Fact]
    public void TranslatePending_BeforeTheFirstCall_SameResultAndFuelAsTranslatingAtTheCall()
    {
        long Run(bool ahead, out int result, out int translated)
        {
            var engine = new WasmEngine(new WasmEngineOptions { LazyTranslation = true });
            var module = engine.Compile(Fixture.Load("fuel-calls"));
            // On another thread, as a parked worker does; the join publishes the bodies to this one.
            var count = 0;
            if (ahead)
            {
                var thread = new Thread(() => count = module.TranslatePending(CancellationToken.None));
                thread.Start();
                thread.Join();
            }

            var instance = engine.Instantiate(module);
            engine.Fuel = 10_000_000;
            result = instance.Invoke("f", WasmValue.I32(10))[0].AsI32();
            translated = count;
            return engine.Fuel;
        }

        var atCallFuel = Run(ahead: false, out var atCall, out _);
        var aheadFuel = Run(ahead: true, out var ahead, out var translated);

        translated.ShouldBeGreaterThan(0);
        ahead.ShouldBe(atCall);
        aheadFuel.ShouldBe(atCallFuel);
    }

    [Fact]
    public void TranslatePending_InvalidBody_StaysRefusedAtItsFirstCall()
    {
        var engine = new WasmEngine(new WasmEngineOptions { LazyTranslation = true });
        var module = engine.Compile(s_oneInvalidBody, TestContext.Current.CancellationToken);
        module.TranslatePending(CancellationToken.None).ShouldBe(1, "the valid body only");
        module.Functions.Count(f => f.Pending is not null).ShouldBe(1, "the invalid one still waits for its call");
        var instance = engine.Instantiate(module);
        instance.Invoke("a")[0].AsI32().ShouldBe(1);
        Should.Throw<WasmValidationException>(() => instance.Invoke("b"));
    }

    [Fact]
    public void TranslatePending_Stopped_TranslatesNothingMore()
    {
        var engine = new WasmEngine(new WasmEngineOptions { LazyTranslation = true });
        var module = engine.Compile(s_oneInvalidBody, TestContext.Current.CancellationToken);
        module.TranslatePending(new CancellationToken(canceled: true)).ShouldBe(0);
        module.Functions.Count(f => f.Pending is not null).ShouldBe(2);
    }

    [Fact]
    public void Compile_InvalidBody_IsRefusedEagerlyAndAtItsFirstCallLazily()
    {
        Should.Throw<WasmValidationException>(() => new WasmEngine().Compile(s_oneInvalidBody, TestContext.Current.CancellationToken));

        var engine = new WasmEngine(new WasmEngineOptions { LazyTranslation = true });
        var instance = engine.Instantiate(engine.Compile(s_oneInvalidBody, TestContext.Current.CancellationToken));
        instance.Invoke("a")[0].AsI32().ShouldBe(1);
        Should.Throw<WasmValidationException>(() => instance.Invoke("b"));
        Should.Throw<WasmValidationException>(() => instance.Invoke("b"), "it stays refused");
    }
}
