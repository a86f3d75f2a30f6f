using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Docker;
using Sandbox.Docker.Client;
using Sandbox.Docker.Execution;
using Sandbox.Docker.Pooling;
using Sandbox.Docker.Spec;
using Sandbox.Bench;

// make bench: N Python hello-world runs through our backend cold, then warm from its pool (as soon as one is idle, then
// with the pool at rest), then N `docker run --rm` CLI
// runs with the same hardening flags, in one process. Prints p50 and p99 of each and the ratios. Not a test: it asserts
// nothing. `create-remove N [concurrency]` and `create-start-remove N [concurrency] [repo]` instead print the daemon's
// container rates (for bench-api), and
// `runtimes ...` compares runc, crun and runsc (make bench-runtimes).
if (args is ["runtimes", .. var rest])
{
    return await RuntimeBench.RunAsync(rest);
}

var time = TimeProvider.System;
using var client = DockerClient.FromEnvironment();
if (args is ["create-remove" or "create-start-remove", ..])
{
    return await CreateRemoveRate.RunAsync(client, args, time);
}

var n = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 30;
var repo = args.Length > 1 ? args[1] : ".";
var profiles = ProfileLoader.LoadTree(Path.Join(repo, "images"), "profile.json");
var pipeline = new RunPipeline(profiles, [DockerSandbox.Create(client, time, NullLoggerFactory.Instance).Backend], time, NullLogger<RunPipeline>.Instance);
var request = new RunRequest { Language = "python", Code = "print('hello')\n" };

Console.WriteLine($"bench: {n} Python hello-world runs each; warming up once");
var warm = await pipeline.RunAsync(request, CancellationToken.None);
if (warm.Status != RunStatus.Ok)
{
    Console.Error.WriteLine($"bench: warm-up run failed: {warm.Status.ToWireName()} {warm.Message} {warm.Stderr}");
    return 1;
}

var ours = new List<double>();
for (var i = 0; i < n; i++)
{
    var started = time.GetTimestamp();
    var result = await pipeline.RunAsync(request, CancellationToken.None);
    ours.Add(time.GetElapsedTime(started).TotalMilliseconds);
    if (result.Stdout != "hello\n")
    {
        Console.Error.WriteLine($"bench: run {i} printed {result.Stdout}: {result.Status.ToWireName()} {result.Message}");
    }
}

// The warm pool: another backend keeping two Python containers warm. Each run waits (untimed) until one is idle, so the
// numbers are the claim path below pool exhaustion; a run that finds none starts cold and is counted as a miss.
var pooled = DockerSandbox.Create(client, time, NullLoggerFactory.Instance);
var pool = await pooled.Backend.StartPoolAsync(profiles.All, new WarmPoolOptions { Sizes = new() { ["python"] = 2 } }, NullLogger.Instance, CancellationToken.None);
var pooledPipeline = new RunPipeline(profiles, [pooled.Backend], time, NullLogger<RunPipeline>.Instance);
// Two ways of arriving: as soon as one container is idle (the one before may still be refilling, on the same two cores),
// and at rest, once the pool is full again (an agent's next call after a pause).
var warmRuns = await WarmRunsAsync(idleWanted: 1);
var restRuns = await WarmRunsAsync(idleWanted: 2);

async Task<List<double>> WarmRunsAsync(int idleWanted)
{
    var runs = new List<double>();
    for (var i = 0; i < n + 1; i++)
    {
        var waitUntil = time.GetTimestamp();
        while (pool.Stats().Sum(s => s.Idle) < idleWanted && time.GetElapsedTime(waitUntil) < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(5);
        }

        var started = time.GetTimestamp();
        var result = await pooledPipeline.RunAsync(request, CancellationToken.None);
        if (i > 0)
        {
            runs.Add(time.GetElapsedTime(started).TotalMilliseconds); // the first claim pins the image and warms the path
        }

        if (result.Stdout != "hello\n")
        {
            Console.Error.WriteLine($"bench: warm run {i} printed {result.Stdout}: {result.Status.ToWireName()} {result.Message}");
        }
    }

    return runs;
}

var (hits, misses) = (pool.Hits, pool.Misses);
await pooled.Backend.StopPoolAsync();

// The CLI baseline: the same create request, spelled as docker run flags, with the same files on stdin.
var (plan, _) = pipeline.Plan(request);
var step = new ContainerStep
{
    RunId = "bench", StepName = "run", Image = plan!.Profile.Image, Command = plan.Profile.Command, Environment = plan.Profile.Environment,
    Limits = plan.Limits, Runtime = plan.Runtime, CgroupParent = "/sandbox/bench-cli", DeadlineUnixMs = 0, KillAtUnixMs = 0,
};
var seccompFile = Path.Join(Path.GetTempPath(), "sandbox-bench-seccomp.json");
await File.WriteAllTextAsync(seccompFile, SeccompProfile.Runner.Json);
var cliArgs = DockerCliArguments.For(ContainerSpecBuilder.Build(step, SeccompProfile.Runner).Request, seccompFile);
var payload = FilePayload.Encode([new PayloadFile(plan.Profile.SourceFile, Encoding.UTF8.GetBytes(request.Code), 0b110_100_100)]);

var cli = new List<double>();
for (var i = 0; i < n + 1; i++)
{
    var info = new ProcessStartInfo("docker") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var a in cliArgs)
    {
        info.ArgumentList.Add(a);
    }

    var started = time.GetTimestamp();
    using var process = Process.Start(info)!;
    await process.StandardInput.BaseStream.WriteAsync(payload);
    process.StandardInput.Close();
    var stdout = await process.StandardOutput.ReadToEndAsync();
    var stderr = await process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    var elapsed = time.GetElapsedTime(started).TotalMilliseconds;
    if (stdout != "hello\n")
    {
        Console.Error.WriteLine($"bench: docker run {i} printed '{stdout}' (exit {process.ExitCode}): {stderr}");
    }

    if (i > 0)
    {
        cli.Add(elapsed); // the first run warms the CLI's own caches, as our warm-up did for us
    }
}

File.Delete(seccompFile);
static double Percentile(List<double> values, double p)
{
    var sorted = values.Order().ToList();
    var rank = (int)Math.Ceiling(p / 100 * sorted.Count) - 1;
    return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"path",-36} {"p50 ms",8} {"p99 ms",8} {"mean ms",8}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"sandbox backend, warm pool (claim)",-36} {Percentile(warmRuns, 50),8:0.0} {Percentile(warmRuns, 99),8:0.0} {warmRuns.Average(),8:0.0}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"sandbox backend, warm pool at rest",-36} {Percentile(restRuns, 50),8:0.0} {Percentile(restRuns, 99),8:0.0} {restRuns.Average(),8:0.0}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"sandbox backend, cold (Engine API)",-36} {Percentile(ours, 50),8:0.0} {Percentile(ours, 99),8:0.0} {ours.Average(),8:0.0}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"docker run --rm (CLI, same flags)",-36} {Percentile(cli, 50),8:0.0} {Percentile(cli, 99),8:0.0} {cli.Average(),8:0.0}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio warm/cold: p50 {Percentile(warmRuns, 50) / Percentile(ours, 50):0.00}, p99 {Percentile(warmRuns, 99) / Percentile(ours, 99):0.00}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio warm/cli:  p50 {Percentile(warmRuns, 50) / Percentile(cli, 50):0.00}, p99 {Percentile(warmRuns, 99) / Percentile(cli, 99):0.00}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio cold/cli:  p50 {Percentile(ours, 50) / Percentile(cli, 50):0.00}, p99 {Percentile(ours, 99) / Percentile(cli, 99):0.00}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warm pool: {hits} hits, {misses} misses (a miss ran cold)"));
return 0;
