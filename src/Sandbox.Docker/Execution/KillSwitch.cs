using Sandbox.Core.Errors;
using Sandbox.Docker.Client;

namespace Sandbox.Docker.Execution;

/// <summary>
/// Kills a step once, remembering the first reason; later calls are no-ops. The kill goes through the step's own cgroup
/// (the kernel, at once, daemon or not) and through the daemon. A reason that comes after the processes have already
/// ended is not recorded: what happened first is the outcome (a program that exited on time is not a timeout because
/// the daemon reported its exit late). The output cap is the exception: its breach is in the bytes already written.
/// </summary>
internal sealed class KillSwitch
{
    private readonly IDockerClient _docker;
    private readonly string _containerId;
    private readonly Func<bool?> _alive;
    private readonly Func<bool> _killCgroup;
    private readonly TaskCompletionSource _fired = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _reason;

    /// <param name="docker">The daemon, for its kill.</param>
    /// <param name="containerId">The step's container.</param>
    /// <param name="alive">Whether the step's processes are alive now (null: unknown, treated as alive).</param>
    /// <param name="killCgroup">Kills every process in the step's cgroup; false when it could not be found.</param>
    public KillSwitch(IDockerClient docker, string containerId, Func<bool?> alive, Func<bool> killCgroup)
    {
        _docker = docker;
        _containerId = containerId;
        _alive = alive;
        _killCgroup = killCgroup;
    }

    public KillReason Reason => (KillReason)Volatile.Read(ref _reason);

    /// <summary>
    /// Fires <see cref="KillReason.WallTime"/> once the step's stopwatch, from <paramref name="started"/>, reaches
    /// <paramref name="wallTimeMs"/>; disposing disarms it. A timer may fire a moment (up to about a millisecond) before the
    /// stopwatch agrees, so the kill waits for the stopwatch: no program is stopped before its limit, nor told it was.
    /// </summary>
    public IDisposable ArmWallClock(long wallTimeMs, long started, TimeProvider time) => new WallClock(this, TimeSpan.FromMilliseconds(wallTimeMs), started, time);

    /// <summary>Completes once the kill has been sent (through the cgroup, or else once the daemon took it).</summary>
    public Task Fired => _fired.Task;

    public void Fire(KillReason reason)
    {
        if (reason != KillReason.Output && _alive() == false)
        {
            // The kernel says every process is gone: the program ended before this reason arose. Not so for the output cap:
            // the bytes past it were written before the end, so "wrote more than allowed" is what happened, even when the
            // program exited before the kill could land (yes | head -c 100000 under a 1000-byte cap was answered ok).
            return;
        }

        if (Interlocked.CompareExchange(ref _reason, (int)reason, (int)KillReason.None) != (int)KillReason.None)
        {
            return;
        }

        // SIGKILL through the cgroup first: it needs no daemon, so a stopped or dead dockerd cannot stretch a deadline.
        if (_killCgroup())
        {
            _fired.TrySetResult();
        }

        _ = SendAsync();
    }

    private async Task SendAsync()
    {
        try
        {
            // SIGKILL: a sandboxed program gets no chance to ignore or delay its end.
            await _docker.KillContainerAsync(_containerId, "SIGKILL", CancellationToken.None);
        }
        catch (SandboxException)
        {
            // Already gone, or the daemon is failing; the exit wait reports the latter.
        }
        catch (OperationCanceledException)
        {
            // The daemon did not answer in time; the cgroup kill above did the work.
        }
        finally
        {
            _fired.TrySetResult();
        }
    }

    private sealed class WallClock : IDisposable
    {
        private readonly KillSwitch _kill;
        private readonly TimeSpan _limit;
        private readonly long _started;
        private readonly TimeProvider _time;
        private readonly ITimer _timer;

        public WallClock(KillSwitch kill, TimeSpan limit, long started, TimeProvider time)
        {
            _kill = kill;
            _limit = limit;
            _started = started;
            _time = time;
            _timer = time.CreateTimer(_ => Check(), null, limit, Timeout.InfiniteTimeSpan);
        }

        public void Dispose() => _timer.Dispose();

        private void Check()
        {
            var early = _limit - _time.GetElapsedTime(_started);
            if (early <= TimeSpan.Zero)
            {
                _kill.Fire(KillReason.WallTime);
                return;
            }

            try
            {
                _timer.Change(early, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // Disarmed meanwhile: the step is over.
            }
        }
    }
}
