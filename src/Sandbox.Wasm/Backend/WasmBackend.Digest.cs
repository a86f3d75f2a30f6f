using System.Collections.Concurrent;
using System.Security.Cryptography;
using Sandbox.Core.Execution;

namespace Sandbox.Wasm.Backend;

/// <summary>The guest module's SHA-256, for the receipt (see <see cref="RunPlan.ArtifactDigest"/>).</summary>
public sealed partial class WasmBackend
{
    // Guest modules are the operator's files and rarely change: hashed once per path, size and write time.
    private readonly ConcurrentDictionary<(string Path, long Length, DateTime Written), string> _moduleDigests = new();

    /// <summary>
    /// The profile module's SHA-256 (<c>sha256:…</c>) as it is on disk now, or null for the caller's own module (its
    /// bytes are the run's code) and for a module that cannot be read (the run reports that itself).
    /// </summary>
    public async Task<string?> DigestAsync(RunPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Request.Language == ModuleLanguage || plan.Profile.Module is not { } module)
        {
            return null;
        }

        try
        {
            var info = new FileInfo(plan.Profile.ResolvePath(module));
            var key = (info.FullName, info.Length, info.LastWriteTimeUtc);
            if (!_moduleDigests.TryGetValue(key, out var digest))
            {
                await using var stream = info.OpenRead();
                digest = "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
                _moduleDigests[key] = digest;
            }

            return digest;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
