using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Execution;

/// <summary>clang -O2 kernels (Fixtures/kernels.c); expected values are what Node 20 (V8) returns.</summary>
public sealed class KernelTests
{
    private static uint Run(string name, int arg)
    {
        var engine = new WasmEngine();
        var instance = Fixture.Instantiate(engine, "kernels");
        return (uint)instance.Invoke(name, WasmValue.I32(arg))[0].AsI32();
    }

    [Theory]
    [InlineData("count_primes", 20000, 2262u)]
    [InlineData("fib", 20, 6765u)]
    [InlineData("mix", 3, 349950804u)]
    [InlineData("matmul", 32, 24512u)]
    public void Invoke_ClangKernel_SameResultAsNode(string name, int arg, uint expected)
    {
        Run(name, arg).ShouldBe(expected);
    }
}
