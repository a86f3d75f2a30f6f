using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Sandbox.Wasm.Wasi;

/// <summary>
/// A minimal <c>wasi_snapshot_preview1</c> host: argv and environment from <see cref="WasiOptions"/>,
/// clocks through a <see cref="TimeProvider"/>, random_get, stdin from a buffer, stdout/stderr into capped
/// buffers, proc_exit. Every other preview1 function is linked and answers ENOSYS (52), so a guest such as
/// CPython links and fails politely at the feature rather than at instantiation. No preopens: the guest
/// has no file system at all yet.
/// </summary>
public sealed partial class WasiHost
{
    /// <summary>The import module name of WASI preview1.</summary>
    public const string ModuleName = "wasi_snapshot_preview1";

    private readonly WasiOptions _options;
    private readonly byte[][] _args;
    private readonly byte[][] _environment;
    private readonly ArrayBufferWriter<byte> _stdout = new();
    private readonly ArrayBufferWriter<byte> _stderr = new();
    private readonly Random? _seededRandom;
    private int _stdinPosition;

    public WasiHost(WasiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _args = options.Args.Select(a => Encoding.UTF8.GetBytes(a + "\0")).ToArray();
        _environment = options.Environment.Select(e => Encoding.UTF8.GetBytes($"{e.Key}={e.Value}\0")).ToArray();

        // A seeded stream is for reproducible runs only; it is not meant to be unpredictable.
#pragma warning disable CA5394 // Insecure randomness: deliberate, opt-in determinism.
        _seededRandom = options.RandomSeed is { } seed ? new Random(seed) : null;
#pragma warning restore CA5394
    }

    /// <summary>Bytes the guest wrote to fd 1 (at most <see cref="WasiOptions.MaxStdoutBytes"/>).</summary>
    public ReadOnlyMemory<byte> Stdout => _stdout.WrittenMemory;

    /// <summary>Bytes the guest wrote to fd 2 (at most <see cref="WasiOptions.MaxStderrBytes"/>).</summary>
    public ReadOnlyMemory<byte> Stderr => _stderr.WrittenMemory;

    /// <summary>True when the guest wrote more to stdout than the cap allowed.</summary>
    public bool StdoutTruncated { get; private set; }

    /// <summary>True when the guest wrote more to stderr than the cap allowed.</summary>
    public bool StderrTruncated { get; private set; }

    /// <summary>Defines every preview1 function in <paramref name="linker"/>.</summary>
    public void Define(WasmEngine engine, WasmLinker linker)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(linker);
        foreach (var (name, parameters, results, implementation) in Functions())
        {
            var call = implementation;
            linker.Define(ModuleName, name, engine.CreateHostFunction(parameters, results, (context, stack) =>
            {
                int errno;
                try
                {
                    errno = call(context, stack);
                }
                catch (GuestFaultException)
                {
                    errno = WasiErrno.Fault;
                }

                if (results.Length > 0)
                {
                    stack[0] = (uint)errno;
                }
            }));
        }
    }

    private void FillRandom(Span<byte> buffer)
    {
        if (_seededRandom is not null)
        {
            _seededRandom.NextBytes(buffer);
        }
        else
        {
            RandomNumberGenerator.Fill(buffer);
        }
    }

    private void Write(ArrayBufferWriter<byte> stream, int cap, ReadOnlySpan<byte> bytes, bool isStdout)
    {
        var room = Math.Max(0, cap - stream.WrittenCount);
        if (bytes.Length > room)
        {
            if (isStdout)
            {
                StdoutTruncated = true;
            }
            else
            {
                StderrTruncated = true;
            }

            bytes = bytes[..room];
        }

        stream.Write(bytes);
    }
}
