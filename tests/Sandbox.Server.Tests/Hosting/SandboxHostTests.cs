using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sandbox.Core.Profiles;
using Sandbox.Testing;

namespace Sandbox.Server.Hosting.Tests;

/// <summary>
/// The clock seam reaches the backends (issue 11, point 7): the composition root's one <see cref="TimeProvider"/> is the
/// clock the pipeline and both backends measure deadlines with, so a fake clock controls them end to end.
/// </summary>
/// <remarks>
/// The fake clock starts in 2000 (FakeTimeProvider's default), never ahead of the machine's: the WebAssembly backend sweeps
/// empty worker cgroups older than a minute when it starts, and a clock ahead of real time would make live ones look old.
/// </remarks>
public sealed class SandboxHostTests
{
    [Fact]
    public void Create_WithAClock_PipelineAndBothBackendsRunOnIt()
    {
        var time = new FakeTimeProvider();
        time.Advance(TimeSpan.FromDays(3));

        using var host = SandboxHost.Create(ProfileLoader.Load(ImagesFolder), ImagesFolder, time, NullLoggerFactory.Instance);

        host.DockerBackend.Time.ShouldBeSameAs(time);
        host.Wasm.Time.ShouldBeSameAs(time);

        // The pipeline's run ids are UUIDv7s whose first 48 bits are the clock's milliseconds.
        var runId = host.Pipeline.NewRunId();
        long.Parse(runId["run_".Length..][..12], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture)
            .ShouldBe(time.GetUtcNow().ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task Build_WithAClock_TheServiceHostsBackendsRunOnIt()
    {
        var data = Path.Join(Path.GetTempPath(), "sandbox-host-tests", Guid.NewGuid().ToString("N"));
        var time = new FakeTimeProvider();
        try
        {
            await using var app = SandboxServer.Build(
                ["--urls", "http://127.0.0.1:0", $"--Sandbox:Profiles={ImagesFolder}", $"--Sandbox:DataDirectory={data}"],
                time);

            var host = app.Services.GetRequiredService<SandboxHost>();
            app.Services.GetRequiredService<TimeProvider>().ShouldBeSameAs(time);
            host.DockerBackend.Time.ShouldBeSameAs(time);
            host.Wasm.Time.ShouldBeSameAs(time);
        }
        finally
        {
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    /// <summary>The repository's profiles, one folder per image with its profile.json.</summary>
    private static string ImagesFolder => Path.Join(RepositoryRoot.Path, "images");
}
