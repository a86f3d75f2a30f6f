using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Execution;

/// <summary>clang -O2 kernels (Fixtures/kernels.c); expected values are what Node 20 (V8) returns.</summary>
public sealed class KernelTests
{
    private static uint Run(string name, int arg, bool fuse)
    {
        var engine = new WasmEngine(new WasmEngineOptions { FuseInstructions = fuse });
        var instance = Fixture.Instantiate(engine, "kernels");
        return (uint)instance.Invoke(name, WasmValue.I32(arg))[0].AsI32();
    }

    [Theory]
    [InlineData("count_primes", 20000, 2262u, true)]
    [InlineData("fib", 20, 6765u, true)]
    [InlineData("mix", 3, 349950804u, true)]
    [InlineData("matmul", 32, 24512u, true)]
    [InlineData("count_primes", 20000, 2262u, false)]
    [InlineData("fib", 20, 6765u, false)]
    [InlineData("mix", 3, 349950804u, false)]
    [InlineData("matmul", 32, 24512u, false)]
    public void Invoke_ClangKernel_SameResultAsNode(string name, int arg, uint expected, bool fuse)
    {
        Run(name, arg, fuse).ShouldBe(expected);
    }
}
