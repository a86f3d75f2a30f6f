using System.Collections.Concurrent;
using System.Reflection.PortableExecutable;

namespace Sandbox.Wasm.Backend;

/// <summary>
/// How the .NET runtime is tuned in a WebAssembly worker, beside the sandbox's own settings (<see cref="WorkerLauncher"/>):
/// defined once, so that what measures the engine (<c>make bench-wasm</c>) runs it as the worker does.
/// </summary>
public static class WorkerRuntimeSettings
{
    /// <summary>Whether each engine image is ReadyToRun (<see cref="IsPrecompiled"/>).</summary>
    private static readonly ConcurrentDictionary<string, bool> s_precompiled = new(StringComparer.Ordinal);

    /// <summary>The runtime's environment variables for the engine's speed, given whether its image is ReadyToRun.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Tuning(bool enginePrecompiled)
    {
        List<KeyValuePair<string, string>> settings =
        [
            new("DOTNET_gcConcurrent", "0"),          // no background GC thread: fewer threads, steadier CPU accounting
            new("DOTNET_TieredPGO", "0"),             // no instrumented tier: guest loops reach optimised code sooner
        ];

        if (enginePrecompiled)
        {
            // The engine is ReadyToRun (make build): tiering stays on, so what the image lacks (about 600 methods a refill
            // compiles: System.Text.Json's metadata and the framework's generics over our types) is compiled quickly at tier 0
            // and not fully optimised, but call counting is off, so nothing is ever re-JIT-compiled: the image's code is kept
            // (re-JIT-compiling it cost about 250 ms of CPU in the background and made guest loops no faster: a 300k-iteration
            // CPython loop took 1.6 s of CPU without, 1.8 s with), and the IL tier's DynamicMethods are always fully optimised
            // anyway. A refill's CPU fell from about 200 to 135 ms (see the README's refill notes). The image matters beyond
            // start-up too: the interpreter's dispatch method is too large for the JIT to optimise at run time (it falls back
            // to MinOpts, even marked AggressiveOptimization), while ReadyToRun compiles it optimised ahead of time. A build
            // that is not precompiled (tests) keeps the runtime's default tiering, or every method would stay at tier 0.
            settings.Add(new("DOTNET_TC_CallCounting", "0"));
        }

        return settings;
    }

    /// <summary>True when <paramref name="assembly"/> is ReadyToRun code (a native header in its PE image); read once per path.</summary>
    public static bool IsPrecompiled(string assembly) => s_precompiled.GetOrAdd(assembly, static path =>
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var image = new PEReader(stream);
            return image.PEHeaders.CorHeader is { ManagedNativeHeaderDirectory.Size: > 0 };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BadImageFormatException)
        {
            // FindMissing reports a missing worker; without the engine's image, tiering stays on (the runtime's default).
            return false;
        }
    });
}
