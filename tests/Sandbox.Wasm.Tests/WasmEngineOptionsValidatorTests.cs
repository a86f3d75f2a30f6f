namespace Sandbox.Wasm.Tests;

public sealed class WasmEngineOptionsValidatorTests
{
    [Fact]
    public void Validate_Defaults_Accepted()
    {
        Should.NotThrow(() => WasmEngineOptionsValidator.Validate(new WasmEngineOptions()));
    }

    [Fact]
    public void Validate_SeveralBadFields_ReportsEveryOneWithItsName()
    {
        var options = new WasmEngineOptions { MaxCallDepth = 0, MaxMemoryPages = 65536, MaxLocals = -1 };

        var error = Should.Throw<ArgumentException>(() => new WasmEngine(options));

        error.Message.ShouldContain("MaxCallDepth");
        error.Message.ShouldContain("MaxMemoryPages");
        error.Message.ShouldContain("MaxLocals");
    }
}
