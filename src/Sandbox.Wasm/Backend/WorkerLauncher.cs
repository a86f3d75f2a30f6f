using System.Diagnostics;
using System.Globalization;

namespace Sandbox.Wasm.Backend;

/// <summary>
/// Builds the command line that starts one WebAssembly worker inside its sandbox. The chain is
/// <c>bash</c> (as root: joins the run's cgroup, closes inherited descriptors) → <c>setpriv</c> (drops to
/// uid/gid 65534 on the host, no groups, no capabilities) → <c>bwrap</c> (new namespaces, a read-only mount view)
/// → <c>dotnet Sandbox.Wasm.Worker.dll</c>. Each flag's reason sits beside it.
/// </summary>
internal static class WorkerLauncher
{
    /// <summary>Where the worker's files appear inside its sandbox.</summary>
    public const string WorkerDir = "/worker";

    /// <summary>Where preopen i's host folder appears inside the worker's sandbox (<c>/preopen/i</c>).</summary>
    public const string PreopenDir = "/preopen";

    /// <summary>
    /// Run by bash as root, with the seccomp program (base64), the cgroup.procs files, then "--", then the command: writing our own pid into each
    /// cgroup before exec means everything the worker ever does is charged there; closing every descriptor above 2
    /// means nothing the service inherited or opened (the Docker socket, the store) can leak into the worker.
    /// </summary>
    private const string LaunchScript =
        "seccomp=$1; shift\n"
        + "for f in \"$@\"; do [ \"$f\" = -- ] && break; echo $$ > \"$f\" || exit 125; shift; done; shift\n"
        + "for p in /proc/$$/fd/*; do n=${p##*/}; if [ \"$n\" -gt 2 ] && [ -e \"$p\" ]; then exec {n}>&-; fi; done\n"
        // The seccomp program reaches bwrap as descriptor 3, read from a pipe: no file on disk to swap or race.
        + "exec 3< <(printf %s \"$seccomp\" | base64 -d)\n"
        + "exec \"$@\"\n";

    /// <summary>The worker's seccomp program, built once: it is the same for every run.</summary>
    private static readonly string s_seccompBase64 = Convert.ToBase64String(WorkerSeccomp.Build());

    /// <summary>Exit code of the launcher when it cannot join the cgroup: the worker never started.</summary>
    public const int CgroupJoinFailed = 125;

    /// <summary>The worker's command line; <paramref name="command"/> replaces the worker inside the same sandbox (tests look at the sandbox from inside with it).</summary>
    public static ProcessStartInfo StartInfo(WasmWorkerOptions options, WorkerCgroup cgroup, IReadOnlyList<string> preopenHostPaths, long heapHardLimitBytes, IReadOnlyList<string>? command = null)
    {
        var start = new ProcessStartInfo(options.Bash)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // The child environment starts empty: bwrap --clearenv drops it anyway, this keeps bash and setpriv clean too.
        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/bin:/bin";
        var a = start.ArgumentList;
        a.Add("-c");
        a.Add(LaunchScript);
        a.Add("sandbox-wasm-launch");
        a.Add(s_seccompBase64);
        foreach (var procs in cgroup.ProcsFiles)
        {
            a.Add(procs);
        }

        a.Add("--");

        a.Add(options.Setpriv);
        a.Add("--reuid=" + Decimal(options.Uid));      // not root on the host: an escape from every namespace lands as nobody
        a.Add("--regid=" + Decimal(options.Gid));
        a.Add("--clear-groups");                        // no supplementary groups (root's would give file access)
        a.Add("--inh-caps=-all");                       // no inheritable capabilities across exec
        a.Add("--bounding-set=-all");                   // and none can ever be regained
        a.Add("--no-new-privs");                        // setuid binaries (if any were reachable) cannot raise privileges
        a.Add("--");

        a.Add(options.Bubblewrap);
        a.Add("--unshare-all");                         // own user, pid, ipc, uts, cgroup and network namespaces: no network at all
        a.Add("--unshare-user");                        // required, not just tried, so the next flag can hold
        a.Add("--disable-userns");                      // no nested user namespace: the kernel surface it opens stays shut
        a.Add("--seccomp");
        a.Add("3");                                     // WorkerSeccomp's deny-list, installed before the runtime starts
        a.Add("--die-with-parent");                     // the worker dies with its supervisor, never orphaned
        a.Add("--new-session");                         // no controlling terminal: TIOCSTI cannot inject input anywhere
        a.Add("--cap-drop");
        a.Add("ALL");                                   // no capabilities inside the user namespace either
        a.Add("--uid");
        a.Add(Decimal(options.Uid));
        a.Add("--gid");
        a.Add(Decimal(options.Gid));
        a.Add("--clearenv");                            // nothing of the service's environment (keys, settings) reaches the worker
        SetEnv(a, "DOTNET_ROOT", options.DotnetRoot);
        SetEnv(a, "DOTNET_GCHeapHardLimit", heapHardLimitBytes.ToString("X", CultureInfo.InvariantCulture)); // the runtime fails with OutOfMemoryException before the kernel kills it
        SetEnv(a, "DOTNET_EnableDiagnostics", "0");     // no debugger, profiler or diagnostics IPC socket
        SetEnv(a, "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1"); // no ICU to load
        SetEnv(a, "DOTNET_EnableWriteXorExecute", "1"); // JIT code (the IL tier's too) is never writable and executable at once
        foreach (var (name, value) in WorkerRuntimeSettings.Tuning(WorkerRuntimeSettings.IsPrecompiled(Path.Join(Path.GetDirectoryName(Path.GetFullPath(options.WorkerAssembly)), "Sandbox.Wasm.dll"))))
        {
            SetEnv(a, name, value);
        }

        // The mount view: an empty root with only what the runtime and the guest need, all read-only.
        foreach (var system in new[] { "/usr", "/lib", "/lib64", "/lib32" })
        {
            AddSystemPath(a, system);
        }

        if (!options.DotnetRoot.StartsWith("/usr/", StringComparison.Ordinal))
        {
            Bind(a, options.DotnetRoot, options.DotnetRoot);
        }

        Bind(a, Path.GetDirectoryName(Path.GetFullPath(options.WorkerAssembly))!, WorkerDir);
        for (var i = 0; i < preopenHostPaths.Count; i++)
        {
            Bind(a, preopenHostPaths[i], PreopenPath(i));  // the guest's read-only folders, and nothing beside them
        }

        a.Add("--proc");
        a.Add("/proc");                                 // the runtime reads its own /proc/self; the pid namespace hides every other process
        a.Add("--dev");
        a.Add("/dev");                                  // null, zero, urandom and friends only; no host devices
        a.Add("--remount-ro");
        a.Add("/");                                     // nothing in the worker's view is writable (the guest's /tmp lives in the worker's memory)
        a.Add("--chdir");
        a.Add("/");
        a.Add("--");
        foreach (var part in command ?? [Path.Join(options.DotnetRoot, "dotnet"), Path.Join(WorkerDir, Path.GetFileName(options.WorkerAssembly))])
        {
            a.Add(part);
        }

        return start;
    }

    public static string PreopenPath(int index) => PreopenDir + "/" + Decimal(index);

    /// <summary>Which tools and files the worker needs; the first missing one, or null when all are there.</summary>
    public static string? FindMissing(WasmWorkerOptions options)
    {
        if (!WorkerSeccomp.IsSupported)
        {
            return "an x86_64 host (the worker's seccomp filter is built for x86_64)";
        }

        foreach (var (path, what) in new[]
        {
            (options.Bubblewrap, "bubblewrap (apt-get install bubblewrap)"),
            (options.Setpriv, "setpriv (util-linux)"),
            (options.Bash, "bash"),
            (Path.Join(options.DotnetRoot, "dotnet"), "the dotnet host"),
            (options.WorkerAssembly, "the WebAssembly worker (Sandbox.Wasm.Worker.dll; run 'make build')"),
        })
        {
            if (!File.Exists(path))
            {
                return what;
            }
        }

        return null;
    }

    private static void AddSystemPath(System.Collections.ObjectModel.Collection<string> a, string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is { } target)
        {
            a.Add("--symlink");
            a.Add(target);
            a.Add(path);                                // merged /usr: /lib is a link into /usr, kept as a link
        }
        else if (Directory.Exists(path))
        {
            Bind(a, path, path);                        // shared libraries the runtime loads (libc, libstdc++, libz)
        }
    }

    private static void Bind(System.Collections.ObjectModel.Collection<string> a, string source, string destination)
    {
        a.Add("--ro-bind");
        a.Add(source);
        a.Add(destination);
    }

    private static void SetEnv(System.Collections.ObjectModel.Collection<string> a, string name, string value)
    {
        a.Add("--setenv");
        a.Add(name);
        a.Add(value);
    }

    private static string Decimal(int value) => value.ToString(CultureInfo.InvariantCulture);
}
