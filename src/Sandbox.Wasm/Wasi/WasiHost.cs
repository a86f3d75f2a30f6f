using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Sandbox.Wasm.Wasi;

/// <summary>
/// A <c>wasi_snapshot_preview1</c> host: argv and environment from <see cref="WasiOptions"/> only, clocks
/// through a <see cref="TimeProvider"/>, random_get, stdin from a buffer, stdout/stderr into capped buffers,
/// proc_exit, poll_oneoff, and a file system made of a private in-memory <c>/tmp</c> plus read-only host
/// folders (<see cref="WasiOptions.Preopens"/>). Links, sockets and signals are linked but answer ENOSYS
/// (52), so a guest such as CPython links and fails politely at the feature rather than at instantiation.
/// Dispose it after the run to close host files the guest left open.
/// </summary>
public sealed partial class WasiHost : IDisposable
{
    /// <summary>The import module name of WASI preview1.</summary>
    public const string ModuleName = "wasi_snapshot_preview1";

    private readonly WasiOptions _options;
    private readonly byte[][] _args;
    private readonly byte[][] _environment;
    private readonly ArrayBufferWriter<byte> _stdout = new();
    private readonly ArrayBufferWriter<byte> _stderr = new();
    private readonly Random? _seededRandom;
    private readonly Dictionary<uint, WasiDescriptor> _descriptors = [];
    private readonly MemoryMount? _tmp;
    private int _stdinPosition;
    private ReadOnlyMemory<byte> _stdin;
    private Func<WasiRunStart>? _gate;

    public WasiHost(WasiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _stdin = options.Stdin;
        _gate = options.Gate;
        _args = options.Args.Select(a => Encoding.UTF8.GetBytes(a + "\0")).ToArray();
        _environment = options.Environment.Select(e => Encoding.UTF8.GetBytes($"{e.Key}={e.Value}\0")).ToArray();

        // A seeded stream is for reproducible runs only; it is not meant to be unpredictable.
#pragma warning disable CA5394 // Insecure randomness: deliberate, opt-in determinism.
        _seededRandom = options.RandomSeed is { } seed ? new Random(seed) : null;
#pragma warning restore CA5394

        // Preopens are the guest's only roots: /tmp first (fd 3), then the read-only folders in order.
        var fd = 3u;
        if (options.Tmp is { } tmp)
        {
            _tmp = new MemoryMount("/tmp", tmp, options.TimeProvider);
            _descriptors[fd++] = new WasiDescriptor { Mount = _tmp, Path = [], IsPreopen = true, Readable = true };
        }

        foreach (var preopen in options.Preopens)
        {
            _descriptors[fd++] = new WasiDescriptor { Mount = new HostDirectoryMount(preopen.GuestPath, preopen.HostPath), Path = [], IsPreopen = true, Readable = true };
        }
    }

    /// <summary>Makes <c>/tmp/outputs</c>, so a program can write its artifacts there at once; false when <c>/tmp</c> has no room.</summary>
    internal bool CreateOutputsFolder() => _tmp?.CreateDirectory(["outputs"]) is WasiErrno.Success or WasiErrno.Exists;

    /// <summary>The files the guest left under <c>/tmp/outputs</c> (see <see cref="MemoryMount.FilesUnder"/>).</summary>
    internal IEnumerable<(string Path, ReadOnlyMemory<byte> Content)> OutputFiles() => _tmp?.FilesUnder("outputs") ?? [];

    /// <summary>Bytes the guest tried to write to stdout and stderr together, including any past the caps.</summary>
    public long OutputBytes { get; private set; }

    /// <summary>The memory of the last guest that called a WASI function: the backend's view of a guest that
    /// exited or trapped during instantiation, before it had an instance to ask.</summary>
    internal WasmMemory? CallerMemory { get; private set; }

    /// <summary>Bytes of file data in the in-memory /tmp now (0 without one).</summary>
    public long TmpBytes => _tmp?.UsedBytes ?? 0;

    /// <summary>Closes every descriptor the guest left open (host files above all).</summary>
    public void Dispose()
    {
        foreach (var descriptor in _descriptors.Values)
        {
            descriptor.File?.Dispose();
            descriptor.Mount.Dispose();
        }

        _descriptors.Clear();
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
                CallerMemory = context.Memory ?? CallerMemory;
                if (_gate is not null && !IsBeforeRun(name, stack))
                {
                    OpenGate();
                }

                try
                {
                    errno = call(context, stack);
                }
                catch (GuestFaultException)
                {
                    errno = WasiErrno.Fault;
                }

                // Last line of defence: the host's file system failing on the guest's behalf is the guest's errno,
                // never a sandbox error. Mounts map these themselves; anything else (a bug of ours) still escapes.
                catch (Exception e) when (WasiErrno.FromHost(e) is { } hostErrno)
                {
                    errno = hostErrno;
                }

                if (results.Length > 0)
                {
                    stack[0] = (uint)errno;
                }
            }));
        }
    }

    /// <summary>
    /// True for the calls a pre-initialised guest may make before its run is known, because their answers are the same for
    /// every run of the profile: argv, environment, clocks, random bytes, what the preopens are, stdio's type, and anything
    /// on the read-only host folders. Everything else (/tmp, stdin, output, polling, exit) could observe or affect the run.
    /// </summary>
    private bool IsBeforeRun(string name, Span<ulong> args)
    {
        switch (name)
        {
            case "args_get" or "args_sizes_get" or "environ_get" or "environ_sizes_get" or "clock_res_get" or "clock_time_get"
                or "random_get" or "fd_prestat_get" or "fd_prestat_dir_name" or "sched_yield":
                return true;
            case "fd_fdstat_get" or "fd_filestat_get" or "fd_seek" or "fd_tell" when IsStdio(args[0]):
                return true;
            case "fd_fdstat_get" when _descriptors.TryGetValue((uint)args[0], out var preopen) && preopen.IsPreopen:
                return true;
        }

        // A call on a read-only host folder (or a file opened from one) sees the same bytes in every run.
        return (name.StartsWith("fd_", StringComparison.Ordinal) || name.StartsWith("path_", StringComparison.Ordinal))
            && name is not ("fd_write" or "fd_pwrite" or "path_rename")
            && _descriptors.TryGetValue((uint)args[0], out var descriptor) && descriptor.Mount.IsReadOnly;
    }

    /// <summary>Hands the parked guest its run: the gate blocks until the run is claimed, then /tmp's files and stdin arrive.</summary>
    private void OpenGate()
    {
        var gate = _gate!;
        _gate = null;
        var start = gate();
        _stdin = start.Stdin;
        try
        {
            _tmp?.AddFiles(start.Files);
        }
        catch (ArgumentException e)
        {
            throw new WasiGateException(e.Message, e);
        }
    }

    /// <summary>
    /// What a snapshot taken at the gate (inside it, before the run's files arrive) keeps of this host: the inode numbers each read-only folder has handed out
    /// (per preopen, in order). Null (and why) when the guest holds anything else a fresh host would not have: an open
    /// file or folder beyond the preopens, or stdin read. Everything else is the profile's and built afresh.
    /// </summary>
    internal string[][]? CaptureState(out string? why)
    {
        why = _stdinPosition != 0 || OutputBytes != 0 ? "stdin was read or output written"
            : _descriptors.Values.Any(d => !d.IsPreopen) ? "the guest holds a descriptor beyond the preopens"
            : null;
        return why is null ? [.. _descriptors.OrderBy(d => d.Key).Select(d => d.Value.Mount is HostDirectoryMount host ? host.InodePaths : [])] : null;
    }

    /// <summary>Puts back what <see cref="CaptureState"/> kept, into this fresh host of the same profile.</summary>
    internal void RestoreState(string[][] inodes)
    {
        ArgumentNullException.ThrowIfNull(inodes);
        var mounts = _descriptors.OrderBy(d => d.Key).Select(d => d.Value.Mount).ToArray();
        if (inodes.Length != mounts.Length || _descriptors.Values.Any(d => !d.IsPreopen))
        {
            throw new InvalidDataException("the snapshot's preopens do not match this host's");
        }

        for (var i = 0; i < mounts.Length; i++)
        {
            if (mounts[i] is HostDirectoryMount host)
            {
                host.RestoreInodes(inodes[i]);
            }
            else if (inodes[i].Length != 0)
            {
                throw new InvalidDataException("the snapshot numbers files in /tmp");
            }
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

    private void Write(bool isStdout, ReadOnlySpan<byte> bytes)
    {
        var stream = isStdout ? _stdout : _stderr;
        var cap = isStdout ? _options.MaxStdoutBytes : _options.MaxStderrBytes;
        OutputBytes += bytes.Length;
        var room = Math.Max(0, cap - stream.WrittenCount);
        if (bytes.Length > room)
        {
            stream.Write(bytes[..room]);
            Observe(isStdout, bytes[..room]);
            if (isStdout)
            {
                StdoutTruncated = true;
            }
            else
            {
                StderrTruncated = true;
            }

            if (_options.StopOnOutputLimit)
            {
                throw new WasiOutputLimitException(isStdout, cap);
            }

            return;
        }

        stream.Write(bytes);
        Observe(isStdout, bytes);
    }

    private void Observe(bool isStdout, ReadOnlySpan<byte> bytes)
    {
        if (_options.Output is { } output && !bytes.IsEmpty)
        {
            output.Write(isStdout ? Core.Execution.OutputStreamKind.Stdout : Core.Execution.OutputStreamKind.Stderr, bytes);
        }
    }
}
