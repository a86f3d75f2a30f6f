using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Wasm.Backend;
using Sandbox.Wasm.Tests.Support;

namespace Sandbox.Wasm.Tests.Backend;

/// <summary>
/// The worker's sandbox, looked at from the host while a real worker runs, and from inside through the same
/// launcher: uid 65534 on the host, no capabilities, no_new_privs, its own network namespace with no interface up,
/// nothing of the service's descriptors, a read-only view without the Docker socket, and its own cgroup.
/// </summary>
public sealed class WorkerIsolationTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunningWorker_IsNobodyWithoutCapabilitiesInItsOwnCgroupAndNetwork()
    {
        var runId = "run_isolation_" + Guid.NewGuid().ToString("N")[..12];
        var backend = new WasmBackend(TimeProvider.System, NullLogger<WasmBackend>.Instance);
        var run = backend.ExecuteAsync(SpinningRun.Plan(runId, wallTimeMs: 4000, cpuTimeMs: 1500), Token);

        try
        {
            await AssertIsolatedAsync(runId);
        }
        finally
        {
            // However the assertions end, the run is awaited: its cgroup is removed with it, never left behind.
            // Which limit ends the spin depends on how much CPU a loaded machine gives it; either way it ends.
            var result = await run;
            result.Status.ShouldBeOneOf(RunStatus.CpuLimit, RunStatus.Timeout);
            result.Runtime.ShouldBe(RuntimeNames.Bubblewrap);
        }
    }

    private static async Task AssertIsolatedAsync(string runId)
    {
        var pids = await WaitForWorkerPidsAsync(runId);
        pids.ShouldNotBeEmpty("the worker's cgroup holds its processes while it runs");
        var sawRuntime = false;
        foreach (var pid in pids)
        {
            var status = File.ReadAllLines($"/proc/{pid}/status");
            Field(status, "Uid").Split('\t', StringSplitOptions.RemoveEmptyEntries).ShouldAllBe(id => id == "65534", $"pid {pid} runs as nobody on the host (real, effective, saved, fs)");
            Field(status, "Gid").Split('\t', StringSplitOptions.RemoveEmptyEntries).ShouldAllBe(id => id == "65534");
            Field(status, "CapEff").ShouldBe("0000000000000000");
            Field(status, "CapBnd").ShouldBe("0000000000000000");
            Field(status, "NoNewPrivs").ShouldBe("1");
            if (File.ReadAllText($"/proc/{pid}/comm").Trim() == "dotnet")
            {
                // bwrap's outer monitor stays in the host's namespaces (as nobody, without capabilities); the runtime does not.
                ReadLink($"/proc/{pid}/ns/net").ShouldNotBe(ReadLink("/proc/self/ns/net"), "the worker has its own network namespace");
                ReadLink($"/proc/{pid}/ns/mnt").ShouldNotBe(ReadLink("/proc/self/ns/mnt"));
                ReadLink($"/proc/{pid}/ns/pid").ShouldNotBe(ReadLink("/proc/self/ns/pid"));
                sawRuntime = true;
            }

            File.ReadAllText($"/proc/{pid}/cgroup").ShouldContain("/sandbox-wasm/" + runId);
            foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
            {
                // Pipes to the service, the runtime's own anonymous descriptors and files it opened inside its view: no socket, no store.
                var target = ReadLink(fd);
                target.StartsWith("socket:", StringComparison.Ordinal).ShouldBeFalse($"pid {pid} fd {Path.GetFileName(fd)}: {target}");
                target.ShouldNotContain(".db");
            }
        }

        sawRuntime.ShouldBeTrue("the runtime itself is in the cgroup");
    }

    [Fact]
    public async Task InsideTheSandbox_NoNetworkNoDockerSocketNothingWritable()
    {
        var options = new WasmWorkerOptions();
        var layout = WorkerCgroup.Detect().ShouldNotBeNull();
        using var cgroup = WorkerCgroup.Create(layout, "run_probe_" + Guid.NewGuid().ToString("N")[..12], 256L * 1024 * 1024, 16);
        const string Probe =
            "echo uid=$(id -u) gid=$(id -g);"
            + "grep -c : /proc/net/dev;"                                     // one line per interface (the headers have no colon)
            + "for s in /var/run/docker.sock /run/docker.sock /run/containerd/containerd.sock /etc/passwd /home /root /work; do [ -e $s ] && echo present $s; done;"
            + "touch /usr/x /worker/x /x 2>/dev/null && echo wrote;"
            + "ls /;"
            + "ls /proc | grep -c '^[0-9]'";
        var start = WorkerLauncher.StartInfo(options, cgroup, [], 64L * 1024 * 1024, ["/usr/bin/sh", "-c", Probe]);
        using var process = Process.Start(start).ShouldNotBeNull();
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync(Token);
        var errors = await process.StandardError.ReadToEndAsync(Token);
        await process.WaitForExitAsync(Token);

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].ShouldBe("uid=65534 gid=65534", errors);
        int.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture).ShouldBe(1, "/proc/net/dev lists lo and nothing else");
        lines.ShouldNotContain(l => l.StartsWith("present", StringComparison.Ordinal), output);
        lines.ShouldNotContain("wrote");
        lines.Skip(2).TakeWhile(l => !char.IsDigit(l[0])).Order(StringComparer.Ordinal).ToList().ShouldBe(["dev", "lib", "lib64", "proc", "usr", "worker"], output);
        int.Parse(lines[^1], System.Globalization.CultureInfo.InvariantCulture).ShouldBeLessThanOrEqualTo(4, "the pid namespace shows only the sandbox's own processes");
    }

    [Fact]
    public async Task InsideTheSandbox_SeccompDeniesTheKernelsRiskiestCallsAndEverySocket()
    {
        var options = new WasmWorkerOptions();
        var layout = WorkerCgroup.Detect().ShouldNotBeNull();
        using var cgroup = WorkerCgroup.Create(layout, "run_seccomp_" + Guid.NewGuid().ToString("N")[..12], 256L * 1024 * 1024, 16);
        // Each call with harmless arguments: a kernel that is reached fails them with EFAULT, EINVAL or EBADF, never EPERM.
        const string Probe = """
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            for name, nr, args in [("ptrace", 101, (0, 0, 0, 0)), ("bpf", 321, (0, 0, 0)), ("userfaultfd", 323, (0,)),
                                   ("io_uring_setup", 425, (0, 0)), ("unshare", 272, (0,)), ("mount", 165, (0, 0, 0, 0, 0)),
                                   ("keyctl", 250, (0, 0)), ("perf_event_open", 298, (0, 0, 0, 0, 0)), ("mknodat", 259, (-100, 0, 0o60600, 0)),
                                   ("socket_inet", 41, (2, 1, 0)), ("socket_unix", 41, (1, 1, 0)), ("getppid", 110, ())]:
                r = libc.syscall(nr, *args)
                print(name, "allowed" if r >= 0 else "errno=%d" % ctypes.get_errno())
            """;
        var start = WorkerLauncher.StartInfo(options, cgroup, [], 64L * 1024 * 1024, ["/usr/bin/python3", "-I", "-c", Probe]);
        using var process = Process.Start(start).ShouldNotBeNull();
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync(Token);
        var errors = await process.StandardError.ReadToEndAsync(Token);
        await process.WaitForExitAsync(Token);

        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).ShouldBe(
        [
            "ptrace errno=1", "bpf errno=1", "userfaultfd errno=1", "io_uring_setup errno=1", "unshare errno=1", "mount errno=1",
            "keyctl errno=1", "perf_event_open errno=1", "mknodat errno=1", "socket_inet errno=97", "socket_unix errno=97", "getppid allowed",
        ], errors);
    }

    private static async Task<IReadOnlyList<int>> WaitForWorkerPidsAsync(string runId)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(3))
        {
            var dir = SpinningRun.Cgroups(runId).FirstOrDefault();
            var pids = dir is null ? [] : File.ReadAllLines(Path.Join(dir, "cgroup.procs")).Select(int.Parse).ToList();
            // Past the launcher's bash and setpriv: every process is bwrap or the runtime by now.
            if (pids.Count >= 3 && pids.All(p => File.Exists($"/proc/{p}/status") && Field(File.ReadAllLines($"/proc/{p}/status"), "Uid").StartsWith("65534", StringComparison.Ordinal)))
            {
                return pids;
            }

            await Task.Delay(20, Token);
        }

        return [];
    }

    private static string Field(string[] status, string name) =>
        status.First(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();

    private static string ReadLink(string path) => new FileInfo(path).LinkTarget ?? "";
}
