using System.Security.Cryptography;
using Sandbox.Wasm.Execution;
using Sandbox.Wasm.Tests.Differential;
using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Execution;

/// <summary>
/// A module read back from its image (<see cref="ModuleImage"/>) is the module compiled: the same definition and the same
/// translated bodies, and it runs the same; an image of other bytes, another set of limits or altered bytes is refused.
/// </summary>
public sealed class ModuleImageTests
{
    private static readonly WasmEngineOptions Eager = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static (byte[] Bytes, byte[] Digest) Kernels()
    {
        var bytes = Fixture.Load("kernels");
        return (bytes, SHA256.HashData(bytes));
    }

    [Theory]
    [InlineData("count_primes", 20000, 2262u)]
    [InlineData("fib", 20, 6765u)]
    [InlineData("mix", 3, 349950804u)]
    [InlineData("matmul", 32, 24512u)]
    public void Read_ImageOfAClangModule_RunsAsTheCompiledOne(string name, int arg, uint expected)
    {
        var (bytes, digest) = Kernels();
        var image = ModuleImage.Write(new WasmEngine(Eager).Compile(bytes, Token), digest, Eager);

        var engine = new WasmEngine(Eager);
        var module = ModuleImage.Read(bytes, digest, image, Eager);
        var instance = engine.Instantiate(module);

        ((uint)instance.Invoke(name, WasmValue.I32(arg))[0].AsI32()).ShouldBe(expected);
    }

    [Fact]
    public void Read_TranslatedBodies_AreCopiedOutOfTheImageOnlyAtTheirFirstCall()
    {
        var (bytes, digest) = Kernels();
        var compiled = new WasmEngine(Eager).Compile(bytes, Token);
        compiled.Functions.ShouldAllBe(f => f.Pending == null);
        var image = ModuleImage.Write(compiled, digest, Eager);

        var read = ModuleImage.Read(bytes, digest, image, Eager);

        // Copying every body before the first call was most of a restoring worker's image read (CPython: 18 MB, 7,670 bodies).
        read.Functions.ShouldAllBe(f => f.Pending != null);
        ((uint)new WasmEngine(Eager).Instantiate(read).Invoke("fib", WasmValue.I32(20))[0].AsI32()).ShouldBe(6765u);
        var fib = read.Definition.Exports.Single(e => e.Name == "fib").Index - read.Definition.ImportedFunctionCount;
        read.Functions[fib].Pending.ShouldBeNull();
        read.Functions[fib].Code.AsSpan().SequenceEqual(compiled.Functions[fib].Code).ShouldBeTrue();
        read.Functions.Count(f => f.Pending != null).ShouldBeGreaterThan(0, "the other kernels were never called");
    }

    [Fact]
    public void Read_ImageOfALazyModule_TranslatesWhatItHadNotAtTheFirstCall()
    {
        var (bytes, digest) = Kernels();
        var lazy = Eager with { LazyTranslation = true };
        var engine = new WasmEngine(lazy);
        var compiled = engine.Compile(bytes, Token);
        ((uint)engine.Instantiate(compiled).Invoke("fib", WasmValue.I32(20))[0].AsI32()).ShouldBe(6765u);
        var pending = compiled.Functions.Count(f => f.Pending is not null);
        pending.ShouldBeGreaterThan(0, "the other kernels were never called");

        var read = ModuleImage.Read(bytes, digest, ModuleImage.Write(compiled, digest, lazy), lazy);

        // Every function waits for its first call: the translated ones are copied out of the image then, the others translated.
        read.Functions.ShouldAllBe(f => f.Pending != null);
        var instance = new WasmEngine(lazy).Instantiate(read);
        ((uint)instance.Invoke("count_primes", WasmValue.I32(20000))[0].AsI32()).ShouldBe(2262u);
        ((uint)instance.Invoke("fib", WasmValue.I32(20))[0].AsI32()).ShouldBe(6765u);
    }

    [Fact]
    public void Read_AnotherModulesBytesOrLimits_IsRefusedBeforeAnythingIsBuilt()
    {
        var (bytes, digest) = Kernels();
        var image = ModuleImage.Write(new WasmEngine(Eager).Compile(bytes, Token), digest, Eager);
        var other = SHA256.HashData(Fixture.Load("counter-loop"));

        Should.Throw<InvalidDataException>(() => ModuleImage.Read(bytes, other, image, Eager)).Message.ShouldContain("another module");
        Should.Throw<InvalidDataException>(() => ModuleImage.Read(bytes, digest, image, Eager with { MaxLocals = 10 })).Message.ShouldContain("limits");
        Should.Throw<InvalidDataException>(() => ModuleImage.Read(bytes, digest, image, Eager with { FuseInstructions = false }));
    }

    [Fact]
    public void Read_TruncatedOrAlteredImage_FailsAsInvalidDataNeverAsACrash()
    {
        var (bytes, digest) = Kernels();
        var image = ModuleImage.Write(new WasmEngine(Eager).Compile(bytes, Token), digest, Eager);

        foreach (var length in new[] { 0, 7, 40, 41, 100, image.Length / 2, image.Length - 1 })
        {
            Should.Throw<InvalidDataException>(() => ModuleImage.Read(bytes, digest, image.AsMemory(0, length), Eager), $"cut at {length}");
        }

        Should.Throw<InvalidDataException>(() => ModuleImage.Read(bytes, digest, (byte[])[.. image, 0], Eager));
        var wrongMagic = image.ToArray();
        wrongMagic[0] ^= 1;
        Should.Throw<InvalidDataException>(() => ModuleImage.Read(bytes, digest, wrongMagic, Eager));
        var wrongContext = image.ToArray();
        wrongContext[20] ^= 1;
        Should.Throw<InvalidDataException>(() => ModuleImage.Read(bytes, digest, wrongContext, Eager));
    }

    /// <summary>
    /// CPython's 6.7 MB module: every body the image holds is the one the translator makes, and reading the image costs a
    /// fraction of compiling (printed; the numbers go to src/Sandbox.Wasm/README.md).
    /// </summary>
    [Fact]
    [Trait("Category", "Integration")]
    public void Read_PythonImage_HoldsEveryTranslatedBodyAndIsCheaperThanCompiling()
    {
        var bytes = File.ReadAllBytes(Path.Join(GuestRequirement.PythonGuest(), "python.wasm"));
        var digest = SHA256.HashData(bytes);
        var compiled = new WasmEngine(Eager).Compile(bytes, Token);
        var image = ModuleImage.Write(compiled, digest, Eager);
        var read = ModuleImage.Read(bytes, digest, image, Eager);

        read.Functions.Length.ShouldBe(compiled.Functions.Length);
        for (var i = 0; i < read.Functions.Length; i++)
        {
            var (a, b) = (compiled.Functions[i], read.Functions[i]);
            b.EnsureTranslated();
            (b.LocalCount, b.MaxHeight, b.EntryFuel, b.ParameterCount, b.ResultCount).ShouldBe((a.LocalCount, a.MaxHeight, a.EntryFuel, a.ParameterCount, a.ResultCount), $"function {i}");
            b.Code.AsSpan().SequenceEqual(a.Code).ShouldBeTrue($"function {i}");
        }

        read.Definition.Data.Select(d => d.Bytes.Length).ShouldBe(compiled.Definition.Data.Select(d => d.Bytes.Length));
        read.Definition.Exports.Select(e => (e.Name, e.Kind, e.Index)).ShouldBe(compiled.Definition.Exports.Select(e => (e.Name, e.Kind, e.Index)));

        var compile = Best(() => new WasmEngine(Eager).Compile(bytes, Token));
        var lazyCompile = Best(() => new WasmEngine(Eager with { LazyTranslation = true }).Compile(bytes, Token));
        var load = Best(() => ModuleImage.Read(bytes, digest, image, Eager));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"python.wasm {bytes.Length / 1024} KiB, image {image.Length / 1024} KiB: compile {compile.TotalMilliseconds:0.0} ms, lazy compile {lazyCompile.TotalMilliseconds:0.0} ms, image read {load.TotalMilliseconds:0.0} ms (best of 5, CPU of this process)");
        load.ShouldBeLessThan(compile, "reading the image must cost less than what it saves");
    }

    private static TimeSpan Best(Action action)
    {
        var best = TimeSpan.MaxValue;
        for (var i = 0; i < 5; i++)
        {
            GC.Collect();
            var before = ThreadCpu();
            action();
            var spent = ThreadCpu() - before;
            best = spent < best ? spent : best;
        }

        return best;
    }

    private static TimeSpan ThreadCpu() => Environment.CpuUsage.TotalTime;
}
