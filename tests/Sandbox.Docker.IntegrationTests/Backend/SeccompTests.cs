using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Docker.IntegrationTests.Support;

namespace Sandbox.Docker.IntegrationTests.Backend;

/// <summary>
/// Proves inside a real container that the runner seccomp profile denies what it must
/// (<c>seccomp/probe.c</c> tries each call) and that ordinary programs are unaffected.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SeccompTests(SandboxFixture sandbox)
{
    public static TheoryData<string> DeniedCalls() =>
    [
        "ptrace", "process_vm_readv", "io_uring_setup", "bpf", "userfaultfd", "keyctl", "perf_event_open",
        "unshare", "setns", "clone", "mount", "socket_inet", "socket_inet6", "socket_netlink", "socket_packet",
    ];

    [Theory]
    [MemberData(nameof(DeniedCalls))]
    public async Task Probe_DeniedCall_FailsInsideTheSandbox(string call)
    {
        var lines = await ProbeAsync();

        lines.ShouldContainKey(call);
        lines[call].ShouldStartWith("denied", customMessage: $"{call}: {lines[call]}");
    }

    /// <summary>
    /// Calls whose only refusal is the profile's own (a kernel or gVisor that is reached answers ENOENT or
    /// EBADF, so "denied" alone would pass without the rule): the errno must be the profile's. gVisor ignores
    /// <c>errnoRet</c> and answers EPERM to every <c>SCMP_ACT_ERRNO</c>.
    /// </summary>
    [Theory]
    [InlineData("mknod_blk", 1)]
    [InlineData("mknodat_chr", 1)]
    [InlineData("memfd_create", 38)]
    [InlineData("execveat", 38)]
    public async Task Probe_CallOnlyTheProfileRefuses_FailsWithTheProfilesErrno(string call, int errnoUnderRunc)
    {
        var lines = await ProbeAsync();

        var expected = SandboxFixture.Runtime == RuntimeNames.Runsc ? 1 : errnoUnderRunc;
        lines.ShouldContainKey(call);
        lines[call].ShouldBe($"denied errno={expected}", customMessage: $"{call} under {SandboxFixture.Runtime}");
    }

    [Theory]
    [InlineData("socket_unix")]
    [InlineData("mknodat_fifo")]
    public async Task Probe_CallTheProfileAllows_IsAllowed(string call)
    {
        var lines = await ProbeAsync();

        lines[call].ShouldBe("allowed");
    }

    [Theory]
    [InlineData("python", "import json, subprocess, threading\nt = threading.Thread(target=lambda: None); t.start(); t.join()\nprint(subprocess.run(['echo', 'child'], capture_output=True, text=True).stdout.strip(), json.dumps({'a': 1}))", "child {\"a\": 1}\n")]
    [InlineData("javascript", "const { execFileSync } = require('child_process');\nconst fs = require('fs');\nfs.writeFileSync('/tmp/x', 'file');\nconsole.log(execFileSync('echo', ['child']).toString().trim(), fs.readFileSync('/tmp/x', 'utf8'));", "child file\n")]
    [InlineData("bash", "x=$(echo sub | tr a-z A-Z); printf '%s\\n' \"$x\" | sort | head -n1; (sleep 0.1 &) ; wait", "SUB\n")]
    [InlineData("c", "#include <stdio.h>\n#include <pthread.h>\n#include <unistd.h>\n#include <sys/wait.h>\nstatic void *f(void *a){return a;}\nint main(void){pthread_t t; pthread_create(&t,0,f,0); pthread_join(t,0); pid_t p=fork(); if(!p) _exit(7); int s; waitpid(p,&s,0); printf(\"%d\\n\", WEXITSTATUS(s)); return 0;}", "7\n")]
    public async Task Run_OrdinaryProgram_IsUnaffected(string language, string code, string expected)
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = language, Code = code }, TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.Ok, result.Message + "\n" + result.Stderr);
        result.Stdout.ShouldBe(expected);
    }

    private static Dictionary<string, string>? s_probe;
    private static readonly SemaphoreSlim s_probeLock = new(1, 1);

    private async Task<Dictionary<string, string>> ProbeAsync()
    {
        await s_probeLock.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (s_probe is null)
            {
                var code = await File.ReadAllTextAsync(Path.Join(RepositoryPaths.Root, "seccomp", "probe.c"), TestContext.Current.CancellationToken);
                var result = await sandbox.RunAsync(new RunRequest { Language = "c", Code = code }, TestContext.Current.CancellationToken);
                result.Status.ShouldBe(RunStatus.Ok, result.Message + "\n" + result.Stderr);
                s_probe = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Select(l => l.Split(' ', 2))
                    .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal);
            }

            return s_probe;
        }
        finally
        {
            s_probeLock.Release();
        }
    }
}
