namespace Sandbox.Wasm.Tests.Support;

/// <summary>Loads the checked-in .wasm fixtures (compiled from the .wat beside them).</summary>
internal static class Fixture
{
    public static byte[] Load(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", name + ".wasm"));

    public static WasmInstance Instantiate(WasmEngine engine, string name) => engine.Instantiate(engine.Compile(Load(name)));
}
