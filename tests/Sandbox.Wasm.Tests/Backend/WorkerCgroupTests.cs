using System.Diagnostics;
using Sandbox.Wasm.Backend;

namespace Sandbox.Wasm.Tests.Backend;

/// <summary>A run's cgroup on the real kernel: made, charged and removed, on a host whose CPUs are all busy too.</summary>
[Trait("Category", "Integration")]
public sealed class WorkerCgroupTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>
    /// A parked warm worker has the lowest CPU weight. Killed (the pool disposed, or evicted) while every CPU is busy at the
    /// full weight, its exit (the kernel frees its memory in its own context) got almost no CPU, rmdir kept failing, and
    /// the cgroup outlived the service's dispose (seen as an empty <c>sandbox-wasm/warm-…</c> left behind on a loaded CI).
    /// </summary>
    [Fact]
    public async Task Dispose_AParkedWorkersCgroupWhileEveryCpuIsBusy_IsGoneWhenDisposeReturns()
    {
        var layout = WorkerCgroup.Detect().ShouldNotBeNull("cgroups with memory, cpu and pids controllers");
        var hogs = new List<(WorkerCgroup Cgroup, Process? Process)>();
        try
        {
            // One busy loop per CPU, each in its own cgroup at the full weight (and one CPU's quota: nothing can run away).
            for (var i = 0; i < Environment.ProcessorCount; i++)
            {
                var cgroup = WorkerCgroup.Create(layout, "hog-test-" + Guid.NewGuid().ToString("N")[..8], 64L * 1024 * 1024, 16);
                hogs.Add((cgroup, Start(cgroup, "while :; do :; done")));
            }

            var parked = WorkerCgroup.Create(layout, "parked-test-" + Guid.NewGuid().ToString("N")[..8], 2048L * 1024 * 1024, 16);
            hogs.Add((parked, null));
            var dir = Path.GetDirectoryName(parked.ProcsFiles[0])!;
            using var holder = Start(parked, "exec /usr/bin/perl -e '$| = 1; my $x = \"a\" x (512 << 20); print \"ready\\n\"; sleep 600'");
            (await holder.StandardOutput.ReadLineAsync(Token).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Token)).ShouldBe("ready");
            parked.SetBackground(true);

            // Every loop is running by now (each has been charged CPU), so the kill meets a fully busy host.
            while (hogs.Any(h => h.Process is not null && (h.Cgroup.CpuNanos() ?? 0) < 50_000_000))
            {
                await Task.Delay(10, Token);
            }

            Directory.Exists(dir).ShouldBeTrue(dir);

            var disposing = Stopwatch.StartNew();
            parked.Dispose();
            disposing.Stop();

            Directory.Exists(dir).ShouldBeFalse($"the cgroup is still there {disposing.ElapsedMilliseconds} ms after its dispose began");
            // Its exit is the kernel's already (the cgroup could not go otherwise); the runtime learns of it when it reaps.
            await holder.WaitForExitAsync(Token).WaitAsync(TimeSpan.FromSeconds(10), Token);
        }
        finally
        {
            foreach (var (cgroup, process) in hogs)
            {
                cgroup.Dispose();
                process?.Dispose();
            }
        }
    }

    /// <summary>Starts <paramref name="script"/> under bash as a member of <paramref name="cgroup"/> (it joins before it runs anything).</summary>
    private static Process Start(WorkerCgroup cgroup, string script)
    {
        var start = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("for f in \"$@\"; do echo $$ > \"$f\" || exit 125; done; " + script);
        start.ArgumentList.Add("join");
        foreach (var procs in cgroup.ProcsFiles)
        {
            start.ArgumentList.Add(procs);
        }

        return Process.Start(start).ShouldNotBeNull();
    }
}
