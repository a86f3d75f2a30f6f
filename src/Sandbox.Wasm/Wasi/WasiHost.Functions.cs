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
        yield return ("fd_pwrite", [I32, I32, I32, I64, I32], errno, FdPwrite);
        yield return ("fd_read", [I32, I32, I32, I32], errno, FdRead);
        yield return ("fd_pread", [I32, I32, I32, I64, I32], errno, FdPread);
        yield return ("fd_seek", [I32, I64, I32, I32], errno, FdSeek);
        yield return ("fd_tell", [I32, I32], errno, FdTell);
        yield return ("fd_close", [I32], errno, FdClose);
        yield return ("fd_fdstat_get", [I32, I32], errno, FdFdstatGet);
        yield return ("fd_fdstat_set_flags", [I32, I32], errno, FdFdstatSetFlags);
        yield return ("fd_filestat_get", [I32, I32], errno, FdFilestatGet);
        yield return ("fd_filestat_set_size", [I32, I64], errno, FdFilestatSetSize);
        yield return ("fd_readdir", [I32, I32, I32, I64, I32], errno, FdReaddir);
        yield return ("fd_prestat_get", [I32, I32], errno, FdPrestatGet);
        yield return ("fd_prestat_dir_name", [I32, I32, I32], errno, FdPrestatDirName);
        yield return ("fd_sync", [I32], errno, (c, a) => IsOpen((uint)a[0]) ? WasiErrno.Success : WasiErrno.BadFileDescriptor);
        yield return ("fd_datasync", [I32], errno, (c, a) => IsOpen((uint)a[0]) ? WasiErrno.Success : WasiErrno.BadFileDescriptor);
        yield return ("fd_advise", [I32, I64, I64, I32], errno, (c, a) => IsOpen((uint)a[0]) ? WasiErrno.Success : WasiErrno.BadFileDescriptor);
        yield return ("path_open", [I32, I32, I32, I32, I32, I64, I64, I32, I32], errno, PathOpen);
        yield return ("path_filestat_get", [I32, I32, I32, I32, I32], errno, PathFilestatGet);
        yield return ("path_create_directory", [I32, I32, I32], errno, (c, a) => PathChange(c, a, (m, p) => m.CreateDirectory(p)));
        yield return ("path_unlink_file", [I32, I32, I32], errno, (c, a) => PathChange(c, a, (m, p) => m.UnlinkFile(p)));
        yield return ("path_remove_directory", [I32, I32, I32], errno, (c, a) => PathChange(c, a, (m, p) => m.RemoveDirectory(p)));
        yield return ("path_rename", [I32, I32, I32, I32, I32, I32], errno, PathRename);
        yield return ("path_readlink", [I32, I32, I32, I32, I32, I32], errno, PathReadlink);
        yield return ("poll_oneoff", [I32, I32, I32, I32], errno, PollOneoff);
        yield return ("random_get", [I32, I32], errno, RandomGet);
        yield return ("sched_yield", [], errno, (c, a) => WasiErrno.Success);
        yield return ("proc_exit", [I32], [], (c, a) => throw new WasiExitException((int)(uint)a[0]));

        // Linked so guests instantiate, but not provided: no links (a link could point out of a mount),
        // sockets, signals, timestamps or descriptor renumbering.
        var notSupported = new (string, WasmValueType[])[]
        {
            ("fd_allocate", [I32, I64, I64]),
            ("fd_fdstat_set_rights", [I32, I64, I64]),
            ("fd_filestat_set_times", [I32, I64, I64, I32]),
            ("fd_renumber", [I32, I32]),
            ("path_filestat_set_times", [I32, I32, I32, I32, I64, I64, I32]),
            ("path_link", [I32, I32, I32, I32, I32, I32, I32]),
            ("path_symlink", [I32, I32, I32, I32, I32]),
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
        if (Now((uint)args[0]) is not { } nanoseconds)
        {
            return WasiErrno.Invalid;
        }

        new GuestMemory(context).WriteU64((uint)args[2], nanoseconds);
        return WasiErrno.Success;
    }

    /// <summary>The clock <paramref name="clock"/> in nanoseconds, or null for an unknown clock.</summary>
    private ulong? Now(uint clock)
    {
        var time = _options.TimeProvider;
        switch (clock)
        {
            case 0: // realtime
                return (ulong)(time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;
            case 1: // monotonic
            case 2: // process cputime: approximated by the monotonic clock
            case 3: // thread cputime: likewise
                var ticks = time.GetTimestamp();
                return (ulong)(ticks / (double)time.TimestampFrequency * NanosecondsPerSecond);
            default:
                return null;
        }
    }

    private int RandomGet(WasmCallContext context, Span<ulong> args)
    {
        FillRandom(new GuestMemory(context).Slice((uint)args[0], (uint)args[1]));
        return WasiErrno.Success;
    }
}
