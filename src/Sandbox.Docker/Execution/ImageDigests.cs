using System.Collections.Concurrent;
using Sandbox.Core.Errors;
using Sandbox.Docker.Client;

namespace Sandbox.Docker.Execution;

/// <summary>
/// An image reference (a tag, or an id already) resolved to the image's content id, <c>sha256:…</c>, from the daemon's
/// image inspect: what the receipt records and the run executes. Answers are kept for a few seconds per reference, so a
/// burst of runs costs one inspect; a tag moved meanwhile is at worst pinned to the image it named a moment ago, which
/// is still what the receipt says ran.
/// </summary>
internal sealed class ImageDigests(IDockerClient docker, TimeProvider time)
{
    private static readonly TimeSpan Freshness = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long admission waits for the answer: a hung daemon (SIGSTOP) must not hold every POST for the client's call
    /// timeout and retries; the run then meets the daemon itself, under its own deadline.
    /// </summary>
    public static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, (string Id, long At)> _resolved = new(StringComparer.Ordinal);

    /// <summary>The content id, or null when the daemon has no such image or cannot be asked (the run then reports that itself).</summary>
    public async Task<string?> ResolveAsync(string reference, CancellationToken cancellationToken)
    {
        var now = time.GetTimestamp();
        if (_resolved.TryGetValue(reference, out var known) && time.GetElapsedTime(known.At, now) < Freshness)
        {
            return known.Id;
        }

        ImageInspectResponse? image;
        using var timeout = new CancellationTokenSource(LookupTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            image = await docker.InspectImageAsync(reference, linked.Token);
        }
        catch (SandboxException)
        {
            // Unreachable or failing daemon: no digest to record; the run itself fails with the daemon's error.
            return null;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        if (image is not { Id: { Length: > 0 } id })
        {
            _resolved.TryRemove(reference, out _);
            return null;
        }

        _resolved[reference] = (id, now);
        return id;
    }
}
