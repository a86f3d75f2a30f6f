using System.Globalization;
using Sandbox.Docker.Client;

namespace Sandbox.Docker.Spec;

/// <summary>
/// Builds the hardened container for one step. This is the single place where the sandbox's container
/// hardening is decided: it reads as an ordered checklist, one reason per item, so a reviewer can audit
/// it in one screen.
/// </summary>
public static class ContainerSpecBuilder
{
    /// <summary>nobody:nogroup. A fixed, unprivileged uid that owns no file in the image.</summary>
    public const string User = "65534:65534";

    /// <summary>Where the program's files are written and where it runs.</summary>
    public const string WorkDir = "/tmp";

    /// <summary>The bootstrap in every image that unpacks the files from stdin and then execs the program.</summary>
    public const string Entry = "/usr/local/bin/sandbox-entry";

    /// <summary>Open files per process: enough for any interpreter, too few to exhaust the host's table.</summary>
    public const long NoFile = 256;

    /// <summary>One CPU: a run cannot starve the host's other core.</summary>
    public const long NanoCpus = 1_000_000_000;

    /// <summary>Inodes in /tmp per MiB of its size, so a program cannot exhaust inodes with empty files.</summary>
    public const long InodesPerMiB = 64;

    /// <summary>
    /// Under gVisor, pids.max also counts the sandbox kernel's own threads (56 for an idle <c>sleep</c> on the
    /// ptrace platform, measured here), so that many are added: the profile's value keeps meaning the program's processes.
    /// </summary>
    public const long GvisorPidsOverhead = 128;

    public static ContainerCreateRequestWithName Build(ContainerStep step, SeccompProfile seccomp)
    {
        var limits = step.Limits;
        var tmpInodes = Math.Max(1024, limits.TmpBytes / (1024 * 1024) * InodesPerMiB);
        // A second above the limit: the cgroup meter, exact over all processes, must be what fires first.
        var cpuSeconds = (limits.CpuTimeMs + 999) / 1000 + 1;

        var hostConfig = new HostConfig
        {
            // 1. Filesystem: nothing persistent is writable.
            ReadonlyRootfs = true,                                   // the image cannot be modified or used to stage files
            Tmpfs = new Dictionary<string, string>                   // the only writable place: size- and inode-capped, in RAM
            {
                [WorkDir] = string.Create(CultureInfo.InvariantCulture,
                    $"rw,{(step.TmpExec ? "exec" : "noexec")},nosuid,nodev,size={limits.TmpBytes},nr_inodes={tmpInodes},mode=1777"),
            },
            Binds = null,                                            // no host path is ever mounted
            MaskedPaths = null,                                      // null keeps Docker's default /proc masking; [] would disable it
            ReadonlyPaths = null,                                    // likewise for Docker's default read-only /proc paths

            // 2. Network: none at all.
            NetworkMode = "none",                                    // only a loopback interface; no route anywhere

            // 3. Privileges.
            Privileged = false,                                      // never
            CapDrop = ["ALL"],                                       // no capabilities, even for root-equivalent paths
            CapAdd = null,                                           // and none added back
            SecurityOpt =
            [
                "no-new-privileges",                                 // setuid binaries cannot raise privileges
                "seccomp=" + seccomp.Json,                           // our deny-by-default syscall filter, sent inline (not a path)
            ],

            // 4. Resources: hard limits enforced by the kernel.
            PidsLimit = limits.Pids                                  // fork bombs stop here (0 would mean unlimited)
                + (step.Runtime == "runsc" ? GvisorPidsOverhead : 0),
            Memory = limits.MemoryBytes,                             // the cgroup OOM-kills past this
            MemorySwap = limits.MemoryBytes,                         // equal to Memory: no swap on top
            MemorySwappiness = 0,                                    // and no swapping out of the allowed RAM
            OomKillDisable = false,                                  // an OOM must kill, never freeze the run
            NanoCpus = NanoCpus,                                     // CPU bandwidth cap
            Ulimits =
            [
                new Ulimit("nofile", NoFile, NoFile),                // descriptor exhaustion stays inside the run
                new Ulimit("fsize", limits.FileSizeBytes, limits.FileSizeBytes), // no single file larger than the profile allows
                new Ulimit("core", 0, 0),                            // no core dumps (they would leak memory contents to disk)
                new Ulimit("cpu", cpuSeconds, cpuSeconds + 1),       // per-process backstop to the cgroup CPU meter: SIGXCPU, then SIGKILL
            ],
            CgroupParent = step.CgroupParent,                        // our own parent cgroup outlives the container, so usage is exact

            // 5. Isolation of the process, IPC and host name.
            Init = true,                                             // docker-init as PID 1 reaps zombies and forwards signals
            IpcMode = "private",                                     // no shared memory with other containers or the host
            ShmSize = Math.Min(limits.TmpBytes, 16L * 1024 * 1024),  // a small /dev/shm (it counts against memory)

            // 6. Lifecycle and logs.
            LogConfig = new LogConfig { Type = "none" },             // output is read from attach with a cap; json-file has none
            AutoRemove = false,                                      // removed explicitly: AutoRemove leaks when the daemon dies
            Runtime = step.Runtime,                                  // runc or crun (the same kernel isolation), or runsc for gVisor
        };

        var request = new ContainerCreateRequest
        {
            Image = step.Image,
            User = User,                                             // 7. never root
            WorkingDir = WorkDir,
            Entrypoint = [Entry],                                    // the image's own entrypoint is not trusted
            Cmd = step.Command,
            Env = [.. step.Environment.Select(kv => kv.Key + "=" + kv.Value)], // 8. an allow-listed environment only
            Hostname = "sandbox",                                    // the default host name would leak the container id
            NetworkDisabled = true,                                  // belt and braces with NetworkMode none
            AttachStdin = true,
            AttachStdout = true,
            AttachStderr = true,
            OpenStdin = true,
            StdinOnce = true,                                        // stdin closes when we close our side: the program sees EOF
            Tty = false,                                             // keeps stdout and stderr apart (multiplexed frames)
            StopSignal = "SIGKILL",                                  // nothing to shut down gracefully
            Labels = new Dictionary<string, string>                  // 9. labels for reconciliation by the reaper
            {
                [SandboxLabels.Managed] = "true",
                // 10. a warm-pool container is made before its run exists, so it is labelled as the pool's instead; all
                //     the hardening and limits above are the run's own, and only labels, name and cgroup parent differ
                //     (see Pooling.PoolKey): a run claims it only when the rest is equal.
                [step.Pool is null ? SandboxLabels.RunId : SandboxLabels.Pool] = step.Pool ?? step.RunId,
                [SandboxLabels.Step] = step.StepName,
                [SandboxLabels.Deadline] = step.DeadlineUnixMs.ToString(CultureInfo.InvariantCulture),
                [SandboxLabels.KillAt] = step.KillAtUnixMs.ToString(CultureInfo.InvariantCulture),
                [SandboxLabels.CgroupParent] = step.CgroupParent,
                [SandboxLabels.Limits] = LimitsLabel.Format(step.Limits, step.CompileErrorExitCode, step.CompileCpuMs),
            }
            // 11. a session's kernel container is this same spec, with the session's whole-life wall and CPU as its limits
            //     (each cell's own are enforced from the host, see Sessions.DockerSession) and a label naming its service,
            //     so the reaper removes it once that service has gone.
            .Concat(step.Session is { } owner ? [new KeyValuePair<string, string>(SandboxLabels.Session, owner)] : [])
            .ToDictionary(),
            HostConfig = hostConfig,
        };

        return new ContainerCreateRequestWithName(request, $"sandbox-{step.RunId}-{step.StepName}");
    }
}

/// <summary>A create request and the container name to give it.</summary>
public sealed record ContainerCreateRequestWithName(ContainerCreateRequest Request, string Name);
