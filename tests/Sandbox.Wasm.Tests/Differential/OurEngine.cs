using System.Diagnostics;
using System.Text;
using Sandbox.Wasm.Wasi;

namespace Sandbox.Wasm.Tests.Differential;

/// <summary>Runs a guest under our engine with the same argv, stdin and preopens that <see cref="NodeWasi"/> gets.</summary>
internal static class OurEngine
{
    /// <summary>Compiled modules by path: CPython's 6.7 MB takes a while to validate and translate, and a
    /// module holds no per-run state, so each test instantiates the same one in a fresh engine.</summary>
    private static readonly Dictionary<string, WasmModule> s_modules = new(StringComparer.Ordinal);
    private static readonly Lock s_lock = new();

    /// <summary>A regression that makes a guest spin must fail the test, not hang the whole run.</summary>
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    public static GuestRun Run(GuestInput input)
    {
        var module = Compile(input.WasmPath);
        var engine = new WasmEngine();
        using var deadline = new CancellationTokenSource(s_timeout);
        using var interrupt = deadline.Token.Register(engine.RequestInterrupt);
        var host = new WasiHost(Options(input));
        var linker = new WasmLinker();
        host.Define(engine, linker);
        var stopwatch = Stopwatch.StartNew();
        var exitCode = engine.RunOnExecutionThread(() =>
        {
            var instance = engine.Instantiate(module, linker);
            try
            {
                instance.Invoke("_start");
                return 0;
            }
            catch (WasiExitException exit)
            {
                return exit.ExitCode;
            }
        });
        return new GuestRun(Encoding.UTF8.GetString(host.Stdout.Span), Encoding.UTF8.GetString(host.Stderr.Span), exitCode, stopwatch.Elapsed);
    }

    private static WasiOptions Options(GuestInput input) => new()
    {
        Args = [input.ProgramName, .. input.Args],
        Stdin = input.Stdin,
        MaxStdoutBytes = 16 * 1024 * 1024,
        MaxStderrBytes = 16 * 1024 * 1024,
        // Node's runner gets the same folders through --dir; neither side gets a /tmp.
        Preopens = [.. input.Preopens.Select(p => new WasiPreopen(p.Key, p.Value))],
    };

    private static WasmModule Compile(string path)
    {
        lock (s_lock)
        {
            if (!s_modules.TryGetValue(path, out var module))
            {
                module = new WasmEngine().Compile(File.ReadAllBytes(path));
                s_modules[path] = module;
            }

            return module;
        }
    }
}
