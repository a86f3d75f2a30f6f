namespace Sandbox.Wasm.Tests.Conformance;

/// <summary>
/// Attack: thousands of corrupted modules (spec binaries with one or two random bytes changed, fixed seed).
/// Expected: each is rejected with a WasmException, or runs under fuel and ends normally or with a
/// WasmException; never any other exception, never a stall.
/// </summary>
[Trait("Category", "Conformance")]
public sealed class MutatedModuleTests
{
    [Fact]
    public void CompileInstantiateInvoke_MutatedSpecModules_OnlyWasmExceptions()
    {
        var root = SpecTestLocator.FindRoot();
        root.ShouldNotBeNull("spec tests not found: expected ../shared/wasm-spec beside the checkout");
        var files = Directory.GetFiles(root, "*.wasm", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        var random = new Random(20261121);
        var options = new WasmEngineOptions { MaxMemoryPages = 64, MaxTableElements = 10_000, MaxCallDepth = 1_000 };
        var unexpected = new List<string>();

        for (var i = 0; i < 5_000; i++)
        {
            var bytes = File.ReadAllBytes(files[random.Next(files.Length)]);
            for (var m = 1 + random.Next(2); m > 0 && bytes.Length > 8; m--)
            {
                bytes[8 + random.Next(bytes.Length - 8)] = (byte)random.Next(256);
            }

            var engine = new WasmEngine(options);
            try
            {
                var module = engine.Compile(bytes, TestContext.Current.CancellationToken);
                var linker = new WasmLinker();
                SpecTestHost.Define(engine, linker);
                engine.Fuel = 50_000;
                var instance = engine.Instantiate(module, linker);
                foreach (var export in instance.Exports.Values.OfType<WasmFunction>())
                {
                    var args = export.Parameters.Select(p => new WasmValue(p, p is WasmValueType.FuncRef or WasmValueType.ExternRef ? 0 : (ulong)random.NextInt64())).ToArray();
                    engine.Fuel = 50_000;
                    try
                    {
                        engine.Invoke(export, args);
                    }
                    catch (WasmException)
                    {
                    }
                }
            }
            catch (WasmException)
            {
            }
#pragma warning disable CA1031 // The point of the test is to collect any non-engine exception.
            catch (Exception e)
#pragma warning restore CA1031
            {
                unexpected.Add($"{i}: {e.GetType().Name}: {e.Message}");
            }
        }

        unexpected.ShouldBeEmpty();
    }
}
