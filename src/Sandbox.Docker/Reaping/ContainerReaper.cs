using System.Globalization;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Errors;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Pooling;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.Reaping;

/// <summary>
/// Removes our labelled containers that outlived their deadline (a crashed host, a daemon restart) and the
/// run cgroups they left behind. Runs once at start-up and then periodically. It only ever touches
/// containers that carry <see cref="SandboxLabels.Managed"/>.
/// </summary>
public sealed partial class ContainerReaper
{
    /// <summary>A run cgroup this old with no container of ours is certainly abandoned (runs last an hour at most).</summary>
    private static readonly TimeSpan s_cgroupAge = TimeSpan.FromHours(2);

    /// <summary>An unclaimed pool container never started this long after its creation is abandoned (its maker gives up at 30 s).</summary>
    private static readonly TimeSpan s_abandonedCreate = TimeSpan.FromMinutes(2);

    private readonly IDockerClient _docker;
    private readonly CgroupMeter _meter;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ContainerReaper(IDockerClient docker, CgroupMeter meter, TimeProvider time, ILogger<ContainerReaper> logger)
    {
        _docker = docker;
        _meter = meter;
        _time = time;
        _logger = logger;
    }

    /// <summary>One sweep; returns how many containers were removed.</summary>
    public async Task<int> ReapOnceAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var containers = await _docker.ListContainersAsync([SandboxLabels.Managed + "=true"], cancellationToken);
        var removed = 0;
        var live = new HashSet<string>(StringComparer.Ordinal);
        foreach (var container in containers)
        {
            var labels = container.Labels ?? new Dictionary<string, string>();
            labels.TryGetValue(SandboxLabels.RunId, out var runId);

            // A container without a readable deadline is ours but malformed: treat it as expired.
            var expired = !labels.TryGetValue(SandboxLabels.Deadline, out var text)
                || !long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var deadline)
                || deadline < now;
            // An unclaimed warm-pool container that is no longer waiting serves nothing: its service died (stdin closed,
            // the entry exited) or it was killed. Running ones belong to a live pool; claimed ones to their run.
            // A pool container still only created long after its creation was abandoned by its maker, which starts or
            // removes it within its make timeout: a service killed mid-refill, or a refill cut off by a daemon stop.
            var spentPool = labels.ContainsKey(SandboxLabels.Pool) && ClaimName.Parse(container) is null
                && (container.State is not ("running" or "created")
                    || (container.State == "created" && now - (container.Created * 1000) > (long)s_abandonedCreate.TotalMilliseconds));
            // A session's kernel that is no longer running serves nothing either: its service died (stdin closed) or ended it.
            var spentSession = labels.ContainsKey(SandboxLabels.Session) && container.State is not ("running" or "created");
            if (!expired && !spentPool && !spentSession)
            {
                live.Add(CgroupMeter.ParentOf(labels, runId));
                continue;
            }

            try
            {
                if (await _docker.RemoveContainerAsync(container.Id, cancellationToken))
                {
                    removed++;
                    Log.Reaped(_logger, runId ?? "?", container.Id[..Math.Min(12, container.Id.Length)]);
                }
            }
            catch (SandboxException ex)
            {
                Log.ReapFailed(_logger, runId ?? "?", ex);
            }
        }

        SweepCgroups(live);
        return removed;
    }

    /// <summary>Sweeps until cancelled; errors are logged, never thrown, so one bad sweep does not stop the next.</summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, _time);
        do
        {
            try
            {
                await ReapOnceAsync(cancellationToken);
            }
            catch (SandboxException ex)
            {
                Log.SweepFailed(_logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken));
    }

    private void SweepCgroups(HashSet<string> live)
    {
        var cutoff = _time.GetUtcNow() - s_cgroupAge;
        foreach (var parent in _meter.ListRunParents())
        {
            if (!live.Contains(parent) && _meter.LastChangedUtc(parent) is { } changed && changed < cutoff)
            {
                _meter.TryRemove(parent);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Warning, "Reaper removed container {ContainerId} of run {RunId}: it outlived its deadline")]
        public static partial void Reaped(ILogger logger, string runId, string containerId);

        [LoggerMessage(21, LogLevel.Warning, "Reaper could not remove a container of run {RunId}")]
        public static partial void ReapFailed(ILogger logger, string runId, Exception exception);

        [LoggerMessage(22, LogLevel.Warning, "Reaper sweep failed; it will try again")]
        public static partial void SweepFailed(ILogger logger, Exception exception);
    }
}
