using Sandbox.Core.Errors;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.Pooling;

/// <summary>The background refill: makes pool containers up to each pool's size within the budget, and retires stale ones.</summary>
public sealed partial class WarmPool
{
    /// <summary>How often an idle refill loop looks for stale containers even when nothing woke it.</summary>
    private static readonly TimeSpan s_idleCheck = TimeSpan.FromSeconds(5);

    /// <summary>How long a pool whose last container could not be made waits before it tries again.</summary>
    private static readonly TimeSpan s_failureBackoff = TimeSpan.FromSeconds(5);

    /// <summary>Bounds one create, attach and start; never the stopping token, or a create cut short would leave a container we never learn of.</summary>
    private static readonly TimeSpan s_makeTimeout = TimeSpan.FromSeconds(30);

    private readonly Lock _budget = new();
    private long _repinnedAt;

    private async Task RefillLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await RepinIfDueAsync(cancellationToken);
            RetireStale();
            if (NextToMake() is { } slot)
            {
                await MakeAsync(slot);
                continue;
            }

            await _wake.WaitAsync(s_idleCheck, cancellationToken);
        }
    }

    /// <summary>The pool furthest below its size that the budget lets grow by one (its count taken at once), or null.</summary>
    private Slot? NextToMake()
    {
        lock (_budget)
        {
            var count = 0;
            var memory = 0L;
            foreach (var slot in _slots.Values)
            {
                var held = slot.Idle.Count + slot.Making;
                count += held;
                memory += held * slot.Template.Limits.MemoryBytes;
            }

            foreach (var slot in _slots.Values.OrderBy(s => (double)(s.Idle.Count + s.Making) / Math.Max(1, s.Size)))
            {
                var backingOff = slot.FailedAt != 0 && _time.GetElapsedTime(slot.FailedAt) < s_failureBackoff;
                if (slot.Idle.Count + slot.Making + slot.Deferred < slot.Size && !backingOff
                    && count < _options.MaxContainers && memory + slot.Template.Limits.MemoryBytes <= _options.MaxMemoryBytes)
                {
                    slot.Making++;
                    return slot;
                }
            }

            return null;
        }
    }

    private async Task MakeAsync(Slot slot)
    {
        var began = _time.GetTimestamp();
        var name = "pool-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        var now = _time.GetUtcNow();
        var step = slot.Template with
        {
            RunId = name,
            Pool = Instance,
            CgroupParent = CgroupMeter.ParentFor(name),
            // The reaper may remove it only after it could have waited its longest and then run its whole run.
            DeadlineUnixMs = (now + _options.MaxIdle + TimeSpan.FromMilliseconds(slot.Template.Limits.WallTimeMs) + _backend.ReapGrace).ToUnixTimeMilliseconds(),
            // No run's clock runs yet: it starts at the claim, which the container's name records (ClaimName).
            KillAtUnixMs = 0,
            Output = null,
        };
        var spec = ContainerSpecBuilder.Build(step, SeccompProfile.Runner);
        string? id = null;
        IAttachedStream? attached = null;
        try
        {
            using var timeout = new CancellationTokenSource(s_makeTimeout, _time);
            id = await _docker.CreateContainerAsync(spec.Request, spec.Name, timeout.Token);
            // Attached before start, as a cold run is: nothing the entry writes can be missed, and stdin is ours alone.
            attached = await _docker.AttachAsync(id, timeout.Token);
            await _docker.StartContainerAsync(id, timeout.Token);
            slot.Idle.Enqueue(new WarmContainer(id, attached, step.CgroupParent, _time.GetTimestamp(), slot.Key));
            // Checked after the enqueue, as the re-pin drains after marking: whichever comes second removes it.
            if (slot.Retired)
            {
                DrainRetired(slot);
            }

            slot.FailedAt = 0;
            Refilled?.Invoke(_time.GetElapsedTime(began));
        }
        catch (Exception ex) when (ex is SandboxException or OperationCanceledException or IOException)
        {
            slot.FailedAt = _time.GetTimestamp();
            Log.MakeFailed(_logger, slot.Name, ex);
            if (attached is not null)
            {
                await attached.DisposeAsync();
            }

            await RemoveQuietlyAsync(id ?? spec.Name, step.CgroupParent);
        }
        finally
        {
            lock (_budget)
            {
                slot.Making--;
            }
        }
    }

    /// <summary>
    /// Follows rebuilt images: each pool whose image came from a tag asks, at most every
    /// <see cref="WarmPoolOptions.RepinInterval"/>, which image the tag names now. When it moved (<c>make images</c>), runs
    /// pin the new image and no longer match the pool, so the pool is replaced by one of the new image and its idle
    /// containers of the old one are removed. One refill loop asks; the others go on.
    /// </summary>
    private async Task RepinIfDueAsync(CancellationToken cancellationToken)
    {
        var last = Interlocked.Read(ref _repinnedAt);
        if (ResolveImage is not { } resolve || (last != 0 && _time.GetElapsedTime(last) < _options.RepinInterval)
            || Interlocked.CompareExchange(ref _repinnedAt, _time.GetTimestamp(), last) != last)
        {
            return;
        }

        foreach (var slot in _slots.Values)
        {
            if (slot.ImageReference is not { } reference || slot.Retired
                || await resolve(reference, cancellationToken) is not { } image || image == slot.Template.Image)
            {
                continue;
            }

            var template = slot.Template with { Image = image };
            var key = PoolKey.Of(template);
            if (_slots.TryAdd(key, new Slot(slot.Name, key, template, slot.Size, reference)))
            {
                slot.Retired = true;
                _slots.TryRemove(slot.Key, out _);
                Log.Repinned(_logger, slot.Name, reference, Short(image), Short(slot.Template.Image));
                DrainRetired(slot);
                _wake.Release();
            }
        }
    }

    private void DrainRetired(Slot slot)
    {
        while (slot.Idle.TryDequeue(out var warm))
        {
            _ = RemoveAsync(warm);
        }
    }

    private static string Short(string image) => image.StartsWith("sha256:", StringComparison.Ordinal) && image.Length > 19 ? image[..19] : image;

    /// <summary>Removes idle containers older than <see cref="WarmPoolOptions.MaxIdle"/>; fresh ones replace them.</summary>
    private void RetireStale()
    {
        foreach (var slot in _slots.Values)
        {
            while (slot.Idle.TryPeek(out var oldest) && _time.GetElapsedTime(oldest.CreatedAt) > _options.MaxIdle && slot.Idle.TryDequeue(out var stale))
            {
                _ = RemoveAsync(stale);
            }
        }
    }

    private async Task RemoveAsync(WarmContainer warm)
    {
        await warm.Attached.DisposeAsync();
        await RemoveQuietlyAsync(warm.Id, warm.CgroupParent);
    }

    private async Task RemoveQuietlyAsync(string idOrName, string cgroupParent)
    {
        try
        {
            using var timeout = new CancellationTokenSource(s_makeTimeout, _time);
            await _docker.RemoveContainerAsync(idOrName, timeout.Token);
            _meter.TryRemove(cgroupParent);
        }
        catch (Exception ex) when (ex is SandboxException or OperationCanceledException)
        {
            // Labelled as ours: the reaper removes it once it has exited or outlived its deadline.
            Log.RemoveFailed(_logger, idOrName.Length > 12 ? idOrName[..12] : idOrName, ex);
        }
    }
}
