using Sandbox.Wasm.Backend;

namespace Sandbox.Wasm.Tests.Backend;

public sealed class WorkerLauncherTests
{
    [Fact]
    public void IsPrecompiled_ReadyToRunImage_IsTrue() =>
        // The runtime's own core library ships ReadyToRun.
        WorkerLauncher.IsPrecompiled(typeof(object).Assembly.Location).ShouldBeTrue();

    [Fact]
    public void IsPrecompiled_PlainBuildOfTheEngine_IsFalse() =>
        // dotnet build (not make build's publish) leaves IL only: the worker keeps tiered compilation.
        WorkerLauncher.IsPrecompiled(typeof(WasmEngine).Assembly.Location).ShouldBeFalse();

    [Fact]
    public void IsPrecompiled_MissingImage_IsFalse() =>
        WorkerLauncher.IsPrecompiled(Path.Join(Path.GetTempPath(), "no-such-folder-" + Guid.NewGuid().ToString("N"), "Sandbox.Wasm.dll")).ShouldBeFalse();

    [Fact]
    public void StartInfo_EngineNotPrecompiled_KeepsTieredCompilation()
    {
        var options = new WasmWorkerOptions();
        var layout = WorkerCgroup.Detect().ShouldNotBeNull("the worker needs a cgroup hierarchy");
        using var cgroup = WorkerCgroup.Create(layout, "launcher-" + Guid.NewGuid().ToString("N")[..8], 64L * 1024 * 1024, 8);

        var start = WorkerLauncher.StartInfo(options, cgroup, [], 64L * 1024 * 1024);

        start.ArgumentList.ShouldNotContain("DOTNET_TieredCompilation");
        start.ArgumentList.ShouldContain("DOTNET_TieredPGO");
    }
}
