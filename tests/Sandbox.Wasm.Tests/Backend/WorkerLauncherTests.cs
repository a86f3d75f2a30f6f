using Sandbox.Wasm.Backend;

namespace Sandbox.Wasm.Tests.Backend;

public sealed class WorkerLauncherTests
{
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

    [Fact]
    public void StartInfo_EnginePrecompiled_KeepsTieringButNeverRecompiles()
    {
        // A worker folder whose engine image is ReadyToRun code (the runtime's own core library stands in for it).
        var folder = Directory.CreateTempSubdirectory("sandbox-launcher-");
        try
        {
            File.Copy(typeof(object).Assembly.Location, Path.Join(folder.FullName, "Sandbox.Wasm.dll"));
            var options = new WasmWorkerOptions { WorkerAssembly = Path.Join(folder.FullName, "Sandbox.Wasm.Worker.dll") };
            var layout = WorkerCgroup.Detect().ShouldNotBeNull("the worker needs a cgroup hierarchy");
            using var cgroup = WorkerCgroup.Create(layout, "launcher-" + Guid.NewGuid().ToString("N")[..8], 64L * 1024 * 1024, 8);

            var start = WorkerLauncher.StartInfo(options, cgroup, [], 64L * 1024 * 1024);

            // Tiering off compiled what the image lacks fully optimised (about 60 ms of each refill's CPU); call counting off
            // keeps the image's code for good instead of re-JIT-compiling it in the background.
            start.ArgumentList.ShouldNotContain("DOTNET_TieredCompilation");
            var at = start.ArgumentList.IndexOf("DOTNET_TC_CallCounting");
            at.ShouldBeGreaterThan(0);
            start.ArgumentList[at + 1].ShouldBe("0");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
