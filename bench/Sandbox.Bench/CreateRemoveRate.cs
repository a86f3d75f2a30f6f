using System.Globalization;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Execution;
using Sandbox.Docker.Spec;

namespace Sandbox.Bench;

/// <summary>
/// The daemon's own container rates through the Engine API, N containers over a few workers: the floors a
/// fresh-container-per-run service's sustained throughput is compared with (make bench-api prints them beside its levels).
/// <c>create-remove</c> creates and removes a bare container, never started: what the daemon's bookkeeping alone allows.
/// <c>create-start-remove</c> makes whole sandboxes: the run's hardened spec (profile <c>python</c>: its runtime, seccomp
/// allow-list, read-only root, no capabilities, limits) with <c>true</c> as the program, created, started, waited for and
/// removed: the rate at which this machine can make the fresh containers a run needs, whoever makes them.
/// </summary>
internal static class CreateRemoveRate
{
    private const string FloorCgroup = "/sandbox/bench-floor";

    public static async Task<int> RunAsync(IDockerClient docker, string[] args, TimeProvider time)
    {
        var start = args[0] == "create-start-remove";
        var n = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 40;
        var workers = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 8;
        var request = start ? Hardened(args.Length > 3 ? args[3] : ".") : Bare(args.Length > 3 ? args[3] : "sandbox/python:latest");
        var next = -1;
        var started = time.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < n)
            {
                var id = await docker.CreateContainerAsync(request, null, CancellationToken.None);
                if (start)
                {
                    await docker.StartContainerAsync(id, CancellationToken.None);
                    var exit = await docker.WaitContainerAsync(id, CancellationToken.None);
                    if (exit.StatusCode != 0)
                    {
                        Console.Error.WriteLine($"bench: container {id[..12]} exited {exit.StatusCode}");
                    }
                }

                await docker.RemoveContainerAsync(id, CancellationToken.None);
            }
        }));
        var seconds = time.GetElapsedTime(started).TotalSeconds;
        if (start)
        {
            CgroupMeter.Detect().TryRemove(FloorCgroup); // the runtime made it; nothing of the bench stays behind
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{n / seconds:0.00}"));
        return 0;
    }

    private static ContainerCreateRequest Bare(string image) => new()
    {
        Image = image,
        Cmd = ["true"],
        NetworkDisabled = true,
        Labels = new Dictionary<string, string> { ["sandbox.bench"] = "create-remove" },
        HostConfig = new HostConfig { NetworkMode = "none", LogConfig = new LogConfig { Type = "none" } },
    };

    /// <summary>The python profile's run spec as the backend builds it, with <c>true</c> in place of the entry and the program.</summary>
    private static ContainerCreateRequest Hardened(string repo)
    {
        var profile = ProfileLoader.LoadTree(Path.Join(repo, "images"), "profile.json").All.Single(p => p.Name == "python");
        var step = new ContainerStep
        {
            RunId = "bench-floor", StepName = "run", Image = profile.Image, Command = [], Environment = profile.Environment,
            Limits = profile.Limits, Runtime = profile.Runtime ?? "runc", CgroupParent = FloorCgroup, DeadlineUnixMs = 0, KillAtUnixMs = 0,
        };
        var request = ContainerSpecBuilder.Build(step, SeccompProfile.Runner).Request;
        return request with
        {
            Entrypoint = ["true"],
            Cmd = [],
            AttachStdin = false, OpenStdin = false, StdinOnce = false, AttachStdout = false, AttachStderr = false,
            Labels = new Dictionary<string, string> { ["sandbox.bench"] = "create-start-remove" },
        };
    }
}
