using System.Text;

namespace Sandbox.Wasm.Wasi;

/// <remarks>Path calls. Each resolves its path lexically under the directory descriptor's mount (see
/// <see cref="WasiPathResolver"/>) and hands the mount only normalised components.</remarks>
public sealed partial class WasiHost
{
    private const uint CreateFlag = 1;
    private const uint DirectoryFlag = 2;
    private const uint ExclusiveFlag = 4;
    private const uint TruncateFlag = 8;

    /// <summary>Rights that mean "this descriptor may change the file's data": fd_write, fd_allocate, fd_filestat_set_size
    /// (wasi-libc asks for exactly these on O_WRONLY and leaves them out on O_RDONLY).</summary>
    private const ulong WriteRights = (1UL << 6) | (1UL << 8) | (1UL << 22);

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads the guest path at (pointer, length) and resolves it under directory <paramref name="fd"/>.</summary>
    private int ResolvePath(WasmCallContext context, uint fd, uint pointer, uint length, out WasiDescriptor? directory, out string[] components)
    {
        components = [];
        directory = null;
        var bytes = new GuestMemory(context).Slice(pointer, length);
        if (!_descriptors.TryGetValue(fd, out directory))
        {
            return WasiErrno.BadFileDescriptor;
        }

        if (!directory.IsDirectory)
        {
            return WasiErrno.NotDirectory;
        }

        if (bytes.Length > WasiPathResolver.MaxPathBytes)
        {
            return WasiErrno.NameTooLong;
        }

        string path;
        try
        {
            path = s_strictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return WasiErrno.IllegalByteSequence;
        }

        return WasiPathResolver.Resolve(directory.Path, path, out components);
    }

    private int PathOpen(WasmCallContext context, Span<ulong> args)
    {
        var errno = ResolvePath(context, (uint)args[0], (uint)args[2], (uint)args[3], out var directory, out var components);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        var oflags = (uint)args[4];
        var rights = args[5];
        var fdflags = (ushort)args[7];
        var resultPointer = (uint)args[8];
        new GuestMemory(context).Slice(resultPointer, 4);
        if (_descriptors.Count + 3 >= _options.MaxOpenFiles)
        {
            return WasiErrno.TooManyOpenFiles;
        }

        var mount = directory!.Mount;
        var write = (rights & WriteRights) != 0 || (fdflags & AppendFlag) != 0;
        var create = (oflags & CreateFlag) != 0;
        var truncate = (oflags & TruncateFlag) != 0;
        errno = mount.Stat(components, out var stat);
        var existsAsDirectory = errno == WasiErrno.Success && stat.FileType == WasiFileType.Directory;
        if ((oflags & DirectoryFlag) != 0 || (existsAsDirectory && !create && !truncate))
        {
            if (errno != WasiErrno.Success)
            {
                return errno;
            }

            if (!existsAsDirectory)
            {
                return WasiErrno.NotDirectory;
            }

            // libc asks for write rights on directories too; a directory descriptor itself never writes.
            return AddDescriptor(context, resultPointer, new WasiDescriptor { Mount = mount, Path = components, Readable = true, Flags = fdflags });
        }

        if (mount.IsReadOnly && (write || create || truncate))
        {
            // Read-only preopen: refused before the host file system is touched at all.
            return WasiErrno.ReadOnlyFileSystem;
        }

        errno = mount.OpenFile(components, write, create, (oflags & ExclusiveFlag) != 0, truncate, out var file);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        return AddDescriptor(context, resultPointer, new WasiDescriptor
        {
            Mount = mount,
            Path = components,
            File = file,
            Readable = true,
            Writable = write,
            Flags = fdflags,
        });
    }

    private int AddDescriptor(WasmCallContext context, uint resultPointer, WasiDescriptor descriptor)
    {
        var fd = 3u;
        while (_descriptors.ContainsKey(fd))
        {
            fd++;
        }

        _descriptors[fd] = descriptor;
        new GuestMemory(context).WriteU32(resultPointer, fd);
        return WasiErrno.Success;
    }

    private int PathFilestatGet(WasmCallContext context, Span<ulong> args)
    {
        new GuestMemory(context).Slice((uint)args[4], 64);
        var errno = ResolvePath(context, (uint)args[0], (uint)args[2], (uint)args[3], out var directory, out var components);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        errno = directory!.Mount.Stat(components, out var stat);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        WriteFileStat(new GuestMemory(context), (uint)args[4], stat);
        return WasiErrno.Success;
    }

    private int PathChange(WasmCallContext context, Span<ulong> args, Func<WasiMount, string[], int> change)
    {
        var errno = ResolvePath(context, (uint)args[0], (uint)args[1], (uint)args[2], out var directory, out var components);
        return errno != WasiErrno.Success ? errno : change(directory!.Mount, components);
    }

    private int PathRename(WasmCallContext context, Span<ulong> args)
    {
        var errno = ResolvePath(context, (uint)args[0], (uint)args[1], (uint)args[2], out var fromDirectory, out var from);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        errno = ResolvePath(context, (uint)args[3], (uint)args[4], (uint)args[5], out var toDirectory, out var to);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        // Mounts are separate trees (one may be the host's): nothing moves between them.
        return ReferenceEquals(fromDirectory!.Mount, toDirectory!.Mount) ? fromDirectory.Mount.Rename(from, to) : WasiErrno.CrossDevice;
    }

    private int PathReadlink(WasmCallContext context, Span<ulong> args)
    {
        var errno = ResolvePath(context, (uint)args[0], (uint)args[1], (uint)args[2], out var directory, out var components);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        // No mount ever shows a link the guest could read: an existing name is "not a link".
        errno = directory!.Mount.Stat(components, out _);
        return errno == WasiErrno.Success ? WasiErrno.Invalid : errno;
    }
}
