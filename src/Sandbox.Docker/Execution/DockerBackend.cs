using System.Text;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Execution;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Artifacts;
using Sandbox.Docker.Client;
using Sandbox.Docker.Pooling;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.Execution;

/// <summary>
/// Runs plans in fresh, hardened Docker containers: an optional compile step, then the run step, each in a
/// container of its own that is removed afterwards.
/// </summary>
public sealed class DockerBackend : IExecutionBackend
{
    /// <summary>Mode of source and input files: readable, not executable.</summary>
    private const int FileMode = 0b110_100_100;

    /// <summary>Mode of a compiled artifact: it has to run.</summary>
    private const int ExecutableMode = 0b111_101_101;

    private readonly ContainerStepRunner _steps;
    private readonly DockerBackendOptions _options;
    private readonly TimeProvider _time;
    private readonly ImageDigests _digests;
    private readonly IDockerClient _docker;
    private readonly CgroupMeter _meter;

    /// <remarks>
    /// <c>direct</c> is the daemon without the circuit breaker, to ask a daemon that was lost mid-run whether it is back
    /// (the breaker would keep failing fast for its break duration after the daemon answers again); it defaults to <c>docker</c>.
    /// </remarks>
    public DockerBackend(IDockerClient docker, CgroupMeter meter, DockerBackendOptions options, TimeProvider time, ILogger<DockerBackend> logger, IDockerClient? direct = null)
    {
        _steps = new ContainerStepRunner(docker, meter, options, time, logger, direct);
        _digests = new ImageDigests(docker, time);
        _docker = docker;
        _meter = meter;
        _options = options;
        _time = time;
    }

    /// <summary>The clock its deadlines, waits and timings run on: the composition root's, so a test's fake clock reaches them.</summary>
    public TimeProvider Time => _time;

    /// <summary>Docker refuses a container memory limit below 6 MiB ("Minimum memory limit allowed is 6MB").</summary>
    public const long MinimumMemoryBytes = 6L * 1024 * 1024;

    /// <summary>The page size a tmpfs allocates file data in.</summary>
    public const long TmpfsPageBytes = 4096;

    private static readonly BackendMinimums s_minimums = new()
    {
        // Below this the daemon refuses the container: a request must be rejected before, not fail as sandbox_error.
        MemoryBytes = MinimumMemoryBytes,
        MemoryReason = "Docker's minimum container memory",
        // /tmp is a tmpfs: every file takes whole pages of its size cap, so the files are counted the same way.
        TmpBytes = TmpfsPageBytes,
        TmpBlockBytes = TmpfsPageBytes,
    };

    public string Name => BackendNames.Docker;

    /// <summary>The warm pool run steps claim their containers from, once <see cref="StartPoolAsync"/> made it; null runs every step cold.</summary>
    public WarmPool? Pool => _steps.Pool;

    /// <summary>
    /// Starts the warm pool: for each entry of <see cref="WarmPoolOptions.Sizes"/>, the run step's spec exactly as a run of
    /// that profile with no overrides would have it (the same <see cref="Step"/>, image pinned to its digest), kept warm.
    /// Entries naming no Docker profile are skipped (the service validates them first).
    /// </summary>
    public async Task<WarmPool> StartPoolAsync(IEnumerable<Profile> profiles, WarmPoolOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var byName = profiles.Where(p => p.Backend == BackendNames.Docker).ToDictionary(p => p.Name, StringComparer.Ordinal);
        var pool = new WarmPool(_docker, _meter, options, _options, _time, logger) { ResolveImage = _digests.ResolveAsync };
        foreach (var (key, size) in options.Sizes.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            var (name, runtime) = WarmPoolOptions.Split(key);
            if (size <= 0 || !byName.TryGetValue(name, out var profile))
            {
                continue;
            }

            var plan = new RunPlan
            {
                RunId = "pool",
                Request = new RunRequest { Language = profile.Language, Code = "" },
                Profile = profile,
                Limits = profile.Limits,
                Runtime = runtime ?? profile.Runtime,
            };
            plan = plan with { ArtifactDigest = await DigestAsync(plan, cancellationToken) };
            // The tag is kept beside the id it named: the pool follows the tag when the image is rebuilt.
            pool.Register(key, RunStep(plan), size, profile.Image);
            if (profile.Compile is { } compile)
            {
                // A compiled language's run is two steps in two sandboxes: both start warm, or the run pays one cold start.
                pool.Register(key + WarmPool.CompileSuffix, CompileStep(plan, compile), size, profile.Image);
            }
        }

        _steps.Pool = pool;
        pool.Start();
        return pool;
    }

    /// <summary>
    /// Stops the pool and removes its idle containers, and waits for the removals of the containers finished runs claimed;
    /// runs from now on start cold.
    /// </summary>
    public async Task StopPoolAsync()
    {
        var pool = _steps.Pool;
        _steps.Pool = null;
        if (pool is not null)
        {
            await pool.DisposeAsync();
        }

        await WhenRemovedAsync();
    }

    /// <summary>
    /// Waits until the containers of runs that already returned are removed (shutdown, after the last run ended; tests
    /// before they look for leftovers). Each removal is bounded by its own timeout.
    /// </summary>
    public Task WhenRemovedAsync() => _steps.Removals.WhenIdleAsync();

    /// <summary>Whether <paramref name="plan"/>'s run step would claim a warm container now; null when there is no pool.</summary>
    public async Task<bool?> HasWarmAsync(RunPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (_steps.Pool is not { } pool)
        {
            return null;
        }

        var pinned = plan.ArtifactDigest is null ? plan with { ArtifactDigest = await DigestAsync(plan, cancellationToken) } : plan;
        return pool.HasWarm(RunStep(pinned));
    }

    public BackendMinimums MinimumsFor(Profile profile) => s_minimums;

    public Task<string?> DigestAsync(RunPlan plan, CancellationToken cancellationToken) => _digests.ResolveAsync(plan.ArtifactDigest ?? plan.Profile.Image, cancellationToken);

    public async Task<RunResult> ExecuteAsync(RunPlan plan, CancellationToken cancellationToken)
    {
        if (plan.ArtifactDigest is null && _steps.Pool is not null)
        {
            // The pool's containers run the image pinned to its id; an unpinned plan (the CLI's) names the same image by its
            // tag, so it is pinned here to be comparable (the tag's image a moment ago at worst, as PinAsync would).
            plan = plan with { ArtifactDigest = await DigestAsync(plan, cancellationToken) };
        }

        var profile = plan.Profile;
        var inputs = (plan.Request.Files ?? []).Select(f => new PayloadFile(f.Path, Encoding.UTF8.GetBytes(f.Content), FileMode)).ToList();
        var source = new PayloadFile(profile.SourceFile, Encoding.UTF8.GetBytes(plan.Request.Code), FileMode);
        var stdin = Encoding.UTF8.GetBytes(plan.Request.Stdin ?? "");

        List<PayloadFile> runFiles = [source, .. inputs];
        long? compileCpuMs = null;
        if (profile.Compile is { } compile)
        {
            var compiled = await _steps.RunAsync(
                CompileStep(plan, compile),
                FilePayload.Encode(runFiles),
                cancellationToken);
            var verdict = OutcomeClassifier.Classify(compiled, compile.Limits, compileErrorExitCode: null);
            if (verdict.Status != RunStatus.Ok)
            {
                // A compiler that fails is compile_error; one that hits a limit reports that limit, said to be the compile step's.
                var status = verdict.Status == RunStatus.RuntimeError ? RunStatus.CompileError : verdict.Status;
                return ToResult(plan, compiled, verdict with
                {
                    Status = status,
                    Signal = null,
                    Message = status == RunStatus.CompileError
                        ? "compile_error: the program did not compile; the compiler's messages are in stderr"
                        : "during compilation: " + verdict.Message,
                }, stdoutIsBinary: true);
            }

            compileCpuMs = compiled.CpuMs;
            runFiles = [new PayloadFile(compile.Artifact, compiled.Stdout, ExecutableMode), .. inputs];
        }

        // With artifacts on, the outputs step's nonce travels between the files and the program's stdin (see OutputsCommand).
        var capture = ReturnsArtifacts(profile) ? new ArtifactCapture(OutputsCommand.NewNonce(), profile.Artifacts) : null;
        var run = await _steps.RunAsync(
            RunStep(plan) with { Output = plan.Output, CompileCpuMs = compileCpuMs, Artifacts = capture },
            Concat(FilePayload.Encode(runFiles), capture is null ? stdin : Concat(OutputsCommand.NonceLine(capture.Nonce), stdin)),
            cancellationToken);
        // The compile step has limits of its own; the run's usage and limits describe the program alone, and the
        // compiler's CPU time is reported beside them, so the guard can charge it to the budget too.
        var result = ToResult(plan, run, OutcomeClassifier.Classify(run, plan.Limits, profile.CompileErrorExitCode), stdoutIsBinary: false);
        return compileCpuMs is { } compileMs ? result with { Usage = result.Usage with { CompileCpuMs = compileMs } } : result;
    }

    /// <summary>The run step of <paramref name="plan"/>: the one place its spec is decided, for runs and the warm pool alike.</summary>
    private ContainerStep RunStep(RunPlan plan) =>
        Step(plan, "run", OutputsCommand.RunCommand(plan.Profile.Command, plan.Profile.Prestart, ReturnsArtifacts(plan.Profile)), plan.Limits, plan.Profile.TmpExec);

    /// <summary>The compile step of <paramref name="plan"/>, for runs and the warm pool alike.</summary>
    private ContainerStep CompileStep(RunPlan plan, CompileStep compile) => Step(plan, "compile", CompileCommand(compile), compile.Limits, tmpExec: true);

    private static bool ReturnsArtifacts(Profile profile) => profile.Artifacts.MaxFiles > 0;

    private ContainerStep Step(RunPlan plan, string name, IReadOnlyList<string> command, Core.Limits.ResourceLimits limits, bool tmpExec) => new()
    {
        RunId = plan.RunId,
        StepName = name,
        Image = plan.ArtifactDigest ?? plan.Profile.Image, // pinned: the image the receipt names, not whatever the tag is now
        Command = command,
        Environment = plan.Profile.Environment,
        Limits = limits,
        Runtime = plan.Runtime,
        TmpExec = tmpExec,
        CgroupParent = CgroupMeter.ParentFor(plan.RunId + "-" + name),
        DeadlineUnixMs = (_time.GetUtcNow() + TimeSpan.FromMilliseconds(limits.WallTimeMs) + _options.ReapGrace).ToUnixTimeMilliseconds(),
        KillAtUnixMs = (_time.GetUtcNow() + TimeSpan.FromMilliseconds(limits.WallTimeMs)).ToUnixTimeMilliseconds(),
        CompileErrorExitCode = name == "run" ? plan.Profile.CompileErrorExitCode : null,
    };

    /// <summary>
    /// Runs the compiler with its own output sent to stderr, then streams the artifact on stdout, so the
    /// compile step needs no shared storage with the run step. Arguments travel as argv, never spliced into the script.
    /// </summary>
    private static IReadOnlyList<string> CompileCommand(CompileStep compile) =>
        ["/bin/sh", "-c", "artifact=\"$1\"; shift; \"$@\" >&2 && exec cat -- \"$artifact\"", "sh", compile.Artifact, .. compile.Command];

    private static RunResult ToResult(RunPlan plan, StepOutcome outcome, Classification verdict, bool stdoutIsBinary) => new()
    {
        RunId = plan.RunId,
        Status = verdict.Status,
        // No code when a kill (ours, the daemon's restart, a removal from outside) ended it: the code would be the kill's, not the program's.
        ExitCode = outcome.KillReason == KillReason.None && verdict.Signal is null && !outcome.Vanished && !(outcome.DaemonLost && verdict.Status == RunStatus.SandboxError)
            ? (int?)outcome.ExitCode
            : null,
        Signal = verdict.Signal,
        Stdout = stdoutIsBinary ? "" : Encoding.UTF8.GetString(outcome.Stdout),
        StdoutTruncated = !stdoutIsBinary && outcome.StdoutTruncated,
        StdoutBytes = stdoutIsBinary ? ReadOnlyMemory<byte>.Empty : outcome.Stdout,
        Stderr = Encoding.UTF8.GetString(outcome.Stderr),
        StderrBytes = outcome.Stderr,
        StderrTruncated = outcome.StderrTruncated,
        Usage = outcome.Usage,
        LimitBreach = verdict.Breach,
        Message = verdict.Message,
        Runtime = plan.Runtime,
        Artifacts = outcome.Artifacts,
        ArtifactsDropped = outcome.ArtifactsDropped,
    };

    private static byte[] Concat(byte[] first, byte[] second)
    {
        var all = new byte[first.Length + second.Length];
        first.CopyTo(all, 0);
        second.CopyTo(all, first.Length);
        return all;
    }
}
