using Sandbox.Core.Profiles;
using Sandbox.Docker.Client;

namespace Sandbox.Server.Hosting;

/// <summary>One readiness check: what was checked, whether it holds, and a short detail without host paths.</summary>
/// <param name="Name">What was checked, such as <c>docker</c> or an image's name.</param>
/// <param name="Ok">Whether it holds.</param>
/// <param name="Detail">A short detail, without host paths.</param>
public sealed record ReadinessCheck(string Name, bool Ok, string Detail);

/// <summary>The answer of <c>/readyz</c>: ready only when every check holds; otherwise it says which do not.</summary>
/// <param name="Ready">True when every check holds.</param>
/// <param name="Checks">Each check and its result.</param>
public sealed record ReadinessReport(bool Ready, IReadOnlyList<ReadinessCheck> Checks);

/// <summary>
/// Checks what runs need: the guard store able to write (every run's admission and end are store transactions), Docker reachable, every Docker profile's image present, every WebAssembly
/// guest module and preopen present. Answers are cached briefly so a busy probe does not load the daemon.
/// </summary>
internal sealed class ReadinessProbe : IDisposable
{
    // Short on purpose: /readyz follows the daemon within about a second, both when it goes away and when it is back.
    private static readonly TimeSpan CacheFor = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan DockerTimeout = TimeSpan.FromSeconds(1);

    // A store that waits this long for its write lock is as good as unable to write, for a probe that answers within a second.
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(1);

    // Listing images is slower than a ping on a loaded daemon; its own budget, so a slow answer is a verdict, never an exception.
    private static readonly TimeSpan ImagesTimeout = TimeSpan.FromSeconds(3);
    private readonly ProfileSet _profiles;
    private readonly IDockerClient _docker;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Func<string?> _wasmWorkerUnavailable;
    private readonly Func<CancellationToken, Task>? _storeWrite;
    private (ReadinessReport Report, long At)? _cached;

    /// <param name="profiles">The profiles whose images and guests must be present.</param>
    /// <param name="docker">The daemon to ping.</param>
    /// <param name="time">The clock of the cache.</param>
    /// <param name="wasmWorkerUnavailable">Why the WebAssembly worker cannot run, or null.</param>
    /// <param name="storeWrite">A tiny write to the guard store (<c>IGuardStore.ProbeWriteAsync</c>); throws when the store cannot write.</param>
    public ReadinessProbe(ProfileSet profiles, IDockerClient docker, TimeProvider time, Func<string?>? wasmWorkerUnavailable = null, Func<CancellationToken, Task>? storeWrite = null)
    {
        _storeWrite = storeWrite;
        _wasmWorkerUnavailable = wasmWorkerUnavailable ?? (() => null);
        _profiles = profiles;
        _docker = docker;
        _time = time;
    }

    public async Task<ReadinessReport> CheckAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_cached is { } c && _time.GetElapsedTime(c.At) < CacheFor)
            {
                return c.Report;
            }

            var checks = new List<ReadinessCheck>();
            await CheckStoreAsync(checks, cancellationToken);
            await CheckDockerAsync(checks, cancellationToken);
            CheckWasmGuests(checks);
            var report = new ReadinessReport(checks.All(x => x.Ok), checks);
            _cached = (report, _time.GetTimestamp());
            return report;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The images the profiles use that are known to be missing (from the last check); empty when unknown.</summary>
    public IReadOnlySet<string> MissingImages =>
        _cached?.Report.Checks.Where(c => !c.Ok && c.Name.StartsWith("image ", StringComparison.Ordinal)).Select(c => c.Name["image ".Length..]).ToHashSet(StringComparer.Ordinal)
        ?? [];

    private async Task CheckStoreAsync(List<ReadinessCheck> checks, CancellationToken cancellationToken)
    {
        if (_storeWrite is null)
        {
            return;
        }

        try
        {
            await _storeWrite(cancellationToken).WaitAsync(StoreTimeout, _time, cancellationToken);
            checks.Add(new ReadinessCheck("store", true, "the guard store takes writes"));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested || e is not OperationCanceledException)
        {
            // Whatever the store threw (a full disk, a read-only file, a lock held too long), runs would be refused 503 store_unavailable.
            checks.Add(new ReadinessCheck("store", false, "the guard store cannot write (a full disk or a read-only data folder?); runs are refused with 503 store_unavailable until it can"));
        }
    }

    private async Task CheckDockerAsync(List<ReadinessCheck> checks, CancellationToken cancellationToken)
    {
        var images = _profiles.All.Where(p => p.Backend == BackendNames.Docker).Select(p => p.Image).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (images.Count == 0)
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(DockerTimeout);
        try
        {
            await _docker.PingAsync(timeout.Token);
            checks.Add(new ReadinessCheck("docker", true, "the daemon answers"));
        }
        catch (Exception e) when (e is Core.Errors.SandboxException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            checks.Add(new ReadinessCheck("docker", false, "the Docker daemon does not answer; start it (eng/docker-up.sh) or use the wasm profiles"));
            return;
        }

        using var inspect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        inspect.CancelAfter(ImagesTimeout);
        var imageChecks = new List<ReadinessCheck>();
        try
        {
            foreach (var image in images)
            {
                var found = await _docker.InspectImageAsync(image, inspect.Token) is not null;
                imageChecks.Add(new ReadinessCheck("image " + image, found, found ? "present" : "missing; build it with `make images`"));
            }
        }
        catch (Exception e) when (e is Core.Errors.SandboxException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // A daemon that answers a ping but not the image list in time is not ready; no image is called missing for it
            // (a missing image refuses runs), and no caller of the probe (a dry run, /readyz) sees an exception.
            checks[^1] = new ReadinessCheck("docker", false, "the Docker daemon answers too slowly to list the images; retry shortly");
            return;
        }

        checks.AddRange(imageChecks);
    }

    public void Dispose() => _gate.Dispose();

    private void CheckWasmGuests(List<ReadinessCheck> checks)
    {
        if (_profiles.All.Any(p => p.Backend == BackendNames.Wasm))
        {
            var why = _wasmWorkerUnavailable();
            checks.Add(new ReadinessCheck("wasm worker", why is null, why is null ? "bubblewrap, setpriv, the worker and the cgroup controllers are present" : why + "; run `sandbox doctor`"));
        }

        foreach (var profile in _profiles.All.Where(p => p.Backend == BackendNames.Wasm && p.Module is not null).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            var moduleOk = File.Exists(profile.ResolvePath(profile.Module!));
            var preopensOk = profile.Preopens.Values.All(d => Directory.Exists(profile.ResolvePath(d)));
            checks.Add(new ReadinessCheck(
                "wasm guest " + profile.Name,
                moduleOk && preopensOk,
                moduleOk && preopensOk ? "module and preopens present" : "guest files missing; build them with `make guests`"));
        }
    }
}
