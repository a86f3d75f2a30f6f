using System.Globalization;
using Sandbox.Docker.Client;

namespace Sandbox.Bench;

/// <summary>
/// The daemon's own container create+remove rate through the Engine API, N containers over a few workers: the floor any
/// fresh-container-per-run service's sustained throughput is compared with (make bench-api prints it beside its levels).
/// </summary>
internal static class CreateRemoveRate
{
    public static async Task<int> RunAsync(IDockerClient docker, string[] args, TimeProvider time)
    {
        var n = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 40;
        var workers = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 8;
        var image = args.Length > 3 ? args[3] : "sandbox/python:latest";
        var request = new ContainerCreateRequest
        {
            Image = image,
            Cmd = ["true"],
            NetworkDisabled = true,
            Labels = new Dictionary<string, string> { ["sandbox.bench"] = "create-remove" },
            HostConfig = new HostConfig { NetworkMode = "none", LogConfig = new LogConfig { Type = "none" } },
        };
        var next = -1;
        var started = time.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < n)
            {
                var id = await docker.CreateContainerAsync(request, null, CancellationToken.None);
                await docker.RemoveContainerAsync(id, CancellationToken.None);
            }
        }));
        var seconds = time.GetElapsedTime(started).TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{n / seconds:0.00}"));
        return 0;
    }
}
