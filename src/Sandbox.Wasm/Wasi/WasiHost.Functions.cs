namespace Sandbox.Wasm.Wasi;

/// <remarks>The preview1 functions. Signatures follow the witx of wasi_snapshot_preview1.</remarks>
public sealed partial class WasiHost
{
    private const WasmValueType I32 = WasmValueType.I32;
    private const WasmValueType I64 = WasmValueType.I64;
    private const ulong NanosecondsPerSecond = 1_000_000_000;

    private delegate int WasiFunction(WasmCallContext context, Span<ulong> args);

    private IEnumerable<(string Name, WasmValueType[] Parameters, WasmValueType[] Results, WasiFunction Implementation)> Functions()
    {
        WasmValueType[] errno = [I32];
        yield return ("args_get", [I32, I32], errno, (c, a) => WriteStrings(c, _args, (uint)a[0], (uint)a[1]));
        yield return ("args_sizes_get", [I32, I32], errno, (c, a) => WriteSizes(c, _args, (uint)a[0], (uint)a[1]));
        yield return ("environ_get", [I32, I32], errno, (c, a) => WriteStrings(c, _environment, (uint)a[0], (uint)a[1]));
        yield return ("environ_sizes_get", [I32, I32], errno, (c, a) => WriteSizes(c, _environment, (uint)a[0], (uint)a[1]));
        yield return ("clock_res_get", [I32, I32], errno, ClockResGet);
        yield return ("clock_time_get", [I32, I64, I32], errno, ClockTimeGet);
        yield return ("fd_write", [I32, I32, I32, I32], errno, FdWrite);
        yield return ("fd_read", [I32, I32, I32, I32], errno, FdRead);
        yield return ("fd_fdstat_get", [I32, I32], errno, FdFdstatGet);
        yield return ("fd_prestat_get", [I32, I32], errno, (c, a) => WasiErrno.BadFileDescriptor);
        yield return ("fd_prestat_dir_name", [I32, I32, I32], errno, (c, a) => WasiErrno.BadFileDescriptor);
        yield return ("fd_close", [I32], errno, (c, a) => IsStdio(a[0]) ? WasiErrno.Success : WasiErrno.BadFileDescriptor);
        yield return ("fd_seek", [I32, I64, I32, I32], errno, (c, a) => IsStdio(a[0]) ? WasiErrno.InvalidSeek : WasiErrno.BadFileDescriptor);
        yield return ("fd_tell", [I32, I32], errno, (c, a) => IsStdio(a[0]) ? WasiErrno.InvalidSeek : WasiErrno.BadFileDescriptor);
        yield return ("random_get", [I32, I32], errno, RandomGet);
        yield return ("sched_yield", [], errno, (c, a) => WasiErrno.Success);
        yield return ("proc_exit", [I32], [], (c, a) => throw new WasiExitException((int)(uint)a[0]));

        // Linked so guests instantiate, but not provided: no file system, sockets, signals or polling yet.
        var notSupported = new (string, WasmValueType[])[]
        {
            ("fd_advise", [I32, I64, I64, I32]),
            ("fd_allocate", [I32, I64, I64]),
            ("fd_datasync", [I32]),
            ("fd_fdstat_set_flags", [I32, I32]),
            ("fd_fdstat_set_rights", [I32, I64, I64]),
            ("fd_filestat_get", [I32, I32]),
            ("fd_filestat_set_size", [I32, I64]),
            ("fd_filestat_set_times", [I32, I64, I64, I32]),
            ("fd_pread", [I32, I32, I32, I64, I32]),
            ("fd_pwrite", [I32, I32, I32, I64, I32]),
            ("fd_readdir", [I32, I32, I32, I64, I32]),
            ("fd_renumber", [I32, I32]),
            ("fd_sync", [I32]),
            ("path_create_directory", [I32, I32, I32]),
            ("path_filestat_get", [I32, I32, I32, I32, I32]),
            ("path_filestat_set_times", [I32, I32, I32, I32, I64, I64, I32]),
            ("path_link", [I32, I32, I32, I32, I32, I32, I32]),
            ("path_open", [I32, I32, I32, I32, I32, I64, I64, I32, I32]),
            ("path_readlink", [I32, I32, I32, I32, I32, I32]),
            ("path_remove_directory", [I32, I32, I32]),
            ("path_rename", [I32, I32, I32, I32, I32, I32]),
            ("path_symlink", [I32, I32, I32, I32, I32]),
            ("path_unlink_file", [I32, I32, I32]),
            ("poll_oneoff", [I32, I32, I32, I32]),
            ("proc_raise", [I32]),
            ("sock_accept", [I32, I32, I32]),
            ("sock_recv", [I32, I32, I32, I32, I32, I32]),
            ("sock_send", [I32, I32, I32, I32, I32]),
            ("sock_shutdown", [I32, I32]),
        };
        foreach (var (name, parameters) in notSupported)
        {
            yield return (name, parameters, errno, (c, a) => WasiErrno.NotSupported);
        }
    }

    private static bool IsStdio(ulong fd) => (uint)fd <= 2;

    private static int WriteSizes(WasmCallContext context, byte[][] strings, uint countPointer, uint bytesPointer)
    {
        var memory = new GuestMemory(context);
        memory.WriteU32(countPointer, (uint)strings.Length);
        memory.WriteU32(bytesPointer, (uint)strings.Sum(s => s.Length));
        return WasiErrno.Success;
    }

    private static int WriteStrings(WasmCallContext context, byte[][] strings, uint pointers, uint buffer)
    {
        var memory = new GuestMemory(context);
        foreach (var s in strings)
        {
            memory.WriteU32(pointers, buffer);
            s.CopyTo(memory.Slice(buffer, (uint)s.Length));
            pointers += 4;
            buffer += (uint)s.Length;
        }

        return WasiErrno.Success;
    }

    private int ClockResGet(WasmCallContext context, Span<ulong> args)
    {
        if ((uint)args[0] > 3)
        {
            return WasiErrno.Invalid;
        }

        new GuestMemory(context).WriteU64((uint)args[1], 1_000);
        return WasiErrno.Success;
    }

    private int ClockTimeGet(WasmCallContext context, Span<ulong> args)
    {
        var time = _options.TimeProvider;
        ulong nanoseconds;
        switch ((uint)args[0])
        {
            case 0: // realtime
                nanoseconds = (ulong)(time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;
                break;
            case 1: // monotonic
            case 2: // process cputime: approximated by the monotonic clock
            case 3: // thread cputime: likewise
                var ticks = time.GetTimestamp();
                nanoseconds = (ulong)(ticks / (double)time.TimestampFrequency * NanosecondsPerSecond);
                break;
            default:
                return WasiErrno.Invalid;
        }

        new GuestMemory(context).WriteU64((uint)args[2], nanoseconds);
        return WasiErrno.Success;
    }

    private int FdWrite(WasmCallContext context, Span<ulong> args)
    {
        var fd = (uint)args[0];
        if (fd is not (1 or 2))
        {
            return WasiErrno.BadFileDescriptor;
        }

        var memory = new GuestMemory(context);
        var iovs = (uint)args[1];
        var count = (uint)args[2];
        memory.Slice(iovs, (ulong)count * 8);
        ulong written = 0;
        for (var i = 0u; i < count; i++)
        {
            var entry = iovs + (i * 8);
            var data = memory.Slice(memory.ReadU32(entry), memory.ReadU32(entry + 4));

            // Bytes past the cap are dropped but reported written, so the guest does not spin retrying;
            // the host sees the flood through StdoutTruncated/StderrTruncated.
            if (fd == 1)
            {
                Write(_stdout, _options.MaxStdoutBytes, data, isStdout: true);
            }
            else
            {
                Write(_stderr, _options.MaxStderrBytes, data, isStdout: false);
            }

            written += (uint)data.Length;
        }

        memory.WriteU32((uint)args[3], (uint)Math.Min(written, uint.MaxValue));
        return WasiErrno.Success;
    }

    private int FdRead(WasmCallContext context, Span<ulong> args)
    {
        if ((uint)args[0] != 0)
        {
            return WasiErrno.BadFileDescriptor;
        }

        var memory = new GuestMemory(context);
        var iovs = (uint)args[1];
        var count = (uint)args[2];
        memory.Slice(iovs, (ulong)count * 8);
        var stdin = _options.Stdin.Span;
        var read = 0u;
        for (var i = 0u; i < count && _stdinPosition < stdin.Length; i++)
        {
            var entry = iovs + (i * 8);
            var buffer = memory.Slice(memory.ReadU32(entry), memory.ReadU32(entry + 4));
            var n = Math.Min(buffer.Length, stdin.Length - _stdinPosition);
            stdin.Slice(_stdinPosition, n).CopyTo(buffer);
            _stdinPosition += n;
            read += (uint)n;
        }

        memory.WriteU32((uint)args[3], read);
        return WasiErrno.Success;
    }

    private static int FdFdstatGet(WasmCallContext context, Span<ulong> args)
    {
        if (!IsStdio(args[0]))
        {
            return WasiErrno.BadFileDescriptor;
        }

        // fdstat: u8 filetype (2 = character device), u16 flags, u64 rights base, u64 rights inheriting.
        var memory = new GuestMemory(context);
        var pointer = (uint)args[1];
        memory.Slice(pointer, 24).Clear();
        memory.WriteU8(pointer, 2);
        memory.WriteU64(pointer + 8, (uint)args[0] == 0 ? 0x2UL : 0x40UL);
        return WasiErrno.Success;
    }

    private int RandomGet(WasmCallContext context, Span<ulong> args)
    {
        FillRandom(new GuestMemory(context).Slice((uint)args[0], (uint)args[1]));
        return WasiErrno.Success;
    }
}
