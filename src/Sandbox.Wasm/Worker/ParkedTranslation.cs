namespace Sandbox.Wasm.Worker;

/// <summary>
/// A restored warm worker's use of its park: while the execution thread waits for the run, another thread translates
/// the bodies still waiting for their first call (<see cref="WasmModule.TranslatePending"/>), so the claimed run finds
/// them ready instead of translating the ~500 functions a CPython run first calls on its own clock. Disposing stops it
/// after the body in hand and joins it, before the guest goes on: the guest and the translation never run at once.
/// </summary>
internal sealed class ParkedTranslation : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    private ParkedTranslation(WasmModule module)
    {
        _thread = new Thread(() =>
        {
            try
            {
                Translated = module.TranslatePending(_stop.Token);
            }
            catch (OutOfMemoryException)
            {
                // The heap's hard limit: the rest stays for the run's first calls, which meet the same limit as their own.
            }
        })
        {
            IsBackground = true,
            Name = "sandbox-wasm-park",
        };
        _thread.Start();
    }

    /// <summary>Bodies translated during the park (read after <see cref="Dispose"/>).</summary>
    public int Translated { get; private set; }

    /// <summary>Starts translating <paramref name="module"/>'s pending bodies, or returns null when it has none (an eagerly translated module).</summary>
    public static ParkedTranslation? Start(WasmModule module) =>
        module.Functions.Any(f => f.Pending is not null) ? new ParkedTranslation(module) : null;

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _stop.Dispose();
    }
}
