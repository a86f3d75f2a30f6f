using System.Globalization;
using Sandbox.Docker.Client;

namespace Sandbox.Bench;

/// <summary>
/// Translates the create request our spec builder makes into the equivalent <c>docker run</c> flags, so the
/// CLI baseline carries exactly the same hardening (the seccomp profile goes by file, as the CLI wants).
/// </summary>
internal static class DockerCliArguments
{
    public static List<string> For(ContainerCreateRequest request, string seccompFile)
    {
        var host = request.HostConfig;
        var args = new List<string> { "run", "--rm", "-i", "--network", host.NetworkMode ?? "none", "--user", request.User ?? "65534:65534" };
        if (host.ReadonlyRootfs)
        {
            args.Add("--read-only");
        }

        foreach (var (path, options) in host.Tmpfs ?? new Dictionary<string, string>())
        {
            args.AddRange(["--tmpfs", $"{path}:{options}"]);
        }

        foreach (var cap in host.CapDrop ?? [])
        {
            args.AddRange(["--cap-drop", cap]);
        }

        foreach (var option in host.SecurityOpt ?? [])
        {
            args.AddRange(["--security-opt", option.StartsWith("seccomp=", StringComparison.Ordinal) ? "seccomp=" + seccompFile : option]);
        }

        string I(long? v) => (v ?? 0).ToString(CultureInfo.InvariantCulture);
        args.AddRange(["--pids-limit", I(host.PidsLimit), "--memory", I(host.Memory), "--memory-swap", I(host.MemorySwap),
            "--memory-swappiness", I(host.MemorySwappiness), "--cpus", ((host.NanoCpus ?? 0) / 1e9).ToString(CultureInfo.InvariantCulture)]);
        foreach (var u in host.Ulimits ?? [])
        {
            args.AddRange(["--ulimit", $"{u.Name}={u.Soft}:{u.Hard}"]);
        }

        if (host.Init == true)
        {
            args.Add("--init");
        }

        args.AddRange(["--ipc", host.IpcMode ?? "private", "--shm-size", I(host.ShmSize), "--log-driver", host.LogConfig?.Type ?? "none",
            "--runtime", host.Runtime ?? "runc", "--hostname", request.Hostname ?? "sandbox", "--workdir", request.WorkingDir ?? "/tmp"]);
        foreach (var env in request.Env ?? [])
        {
            args.AddRange(["--env", env]);
        }

        args.AddRange(["--entrypoint", request.Entrypoint?[0] ?? "", request.Image]);
        args.AddRange(request.Cmd ?? []);
        return args;
    }
}
