using Sandbox.Wasm.Backend;

namespace Sandbox.Wasm.Tests.Backend;

public sealed class WorkerRuntimeSettingsTests
{
    [Fact]
    public void IsPrecompiled_ReadyToRunImage_IsTrue() =>
        // The runtime's own core library ships ReadyToRun.
        WorkerRuntimeSettings.IsPrecompiled(typeof(object).Assembly.Location).ShouldBeTrue();

    [Fact]
    public void IsPrecompiled_PlainBuildOfTheEngine_IsFalse() =>
        // dotnet build (not make build's publish) leaves IL only: the worker keeps tiered compilation.
        WorkerRuntimeSettings.IsPrecompiled(typeof(WasmEngine).Assembly.Location).ShouldBeFalse();

    [Fact]
    public void IsPrecompiled_MissingImage_IsFalse() =>
        WorkerRuntimeSettings.IsPrecompiled(Path.Join(Path.GetTempPath(), "no-such-folder-" + Guid.NewGuid().ToString("N"), "Sandbox.Wasm.dll")).ShouldBeFalse();

    [Fact]
    public void Tuning_Precompiled_TurnsCallCountingOffAndNeverTieringItself()
    {
        var settings = WorkerRuntimeSettings.Tuning(enginePrecompiled: true).ToDictionary();

        settings["DOTNET_TC_CallCounting"].ShouldBe("0");
        settings["DOTNET_TieredPGO"].ShouldBe("0");
        settings.ShouldNotContainKey("DOTNET_TieredCompilation");
    }

    [Fact]
    public void Tuning_NotPrecompiled_KeepsCallCounting() =>
        // Without the image every method would stay at tier 0.
        WorkerRuntimeSettings.Tuning(enginePrecompiled: false).ToDictionary().ShouldNotContainKey("DOTNET_TC_CallCounting");
}
