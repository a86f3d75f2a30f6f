using Microsoft.Win32.SafeHandles;

namespace Sandbox.Wasm.Wasi;

/// <summary>
/// A host folder shown read-only. Every component of every path is checked with lstat semantics
/// (<see cref="File.GetAttributes(string)"/> and <see cref="FileSystemInfo.LinkTarget"/>) and a symlink
/// anywhere is refused, so the guest can only ever reach files physically inside the folder. The folder
/// belongs to the operator and the guest cannot create links in it (the mount is read-only), so the
/// check-then-open window is not the guest's to race.
/// </summary>
internal sealed class HostDirectoryMount : WasiMount
{
    private readonly string _root;
    private readonly Dictionary<string, ulong> _inodes = new(StringComparer.Ordinal);

    public HostDirectoryMount(string guestPath, string hostPath)
        : base(guestPath)
    {
        _root = Path.GetFullPath(hostPath);
        if (!Directory.Exists(_root))
        {
            throw new DirectoryNotFoundException($"preopen {guestPath}: host folder '{hostPath}' does not exist");
        }
    }

    public override bool IsReadOnly => true;

    public override int Stat(IReadOnlyList<string> path, out WasiFileStat stat)
    {
        stat = default;
        var errno = Check(path, out var hostPath, out var isDirectory);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        // The host may fail or change under us between Check and here: that is the guest's errno, not our fault.
        try
        {
            FileSystemInfo info = isDirectory ? new DirectoryInfo(hostPath) : new FileInfo(hostPath);
            var size = info is FileInfo file ? (ulong)file.Length : 0;
            stat = new WasiFileStat(isDirectory ? WasiFileType.Directory : WasiFileType.RegularFile, Inode(hostPath), size, Nanoseconds(info.LastWriteTimeUtc));
            return WasiErrno.Success;
        }
        catch (Exception e) when (WasiErrno.FromHost(e) is { } hostErrno)
        {
            return hostErrno;
        }
    }

    public override int List(IReadOnlyList<string> path, out IReadOnlyList<WasiDirectoryEntry> entries)
    {
        entries = [];
        var errno = Check(path, out var hostPath, out var isDirectory);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        if (!isDirectory)
        {
            return WasiErrno.NotDirectory;
        }

        try
        {
            entries = [.. new DirectoryInfo(hostPath).EnumerateFileSystemInfos()
                .OrderBy(i => i.Name, StringComparer.Ordinal)
                .Select(i => new WasiDirectoryEntry(
                    i.Name,
                    i.LinkTarget is not null ? WasiFileType.SymbolicLink : i is DirectoryInfo ? WasiFileType.Directory : WasiFileType.RegularFile,
                    Inode(i.FullName)))];
            return WasiErrno.Success;
        }
        catch (Exception e) when (WasiErrno.FromHost(e) is { } hostErrno)
        {
            return hostErrno;
        }
    }

    public override int OpenFile(IReadOnlyList<string> path, bool write, bool create, bool exclusive, bool truncate, out WasiOpenFile? file)
    {
        file = null;

        // Read-only by configuration: any intent to write or create is refused before the host is touched.
        if (write || create || truncate)
        {
            return WasiErrno.ReadOnlyFileSystem;
        }

        var errno = Check(path, out var hostPath, out var isDirectory);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        if (isDirectory)
        {
            return WasiErrno.IsDirectory;
        }

        try
        {
            var handle = File.OpenHandle(hostPath, FileMode.Open, FileAccess.Read, FileShare.Read);
            try
            {
                // The length is read once, here where a failure is an errno: the folder is read-only, so it only
                // changes if the operator changes it, and every later use (seek, stat, poll) then cannot throw.
                file = new HostOpenFile(handle, RandomAccess.GetLength(handle), Inode(hostPath), Nanoseconds(File.GetLastWriteTimeUtc(hostPath)));
            }
            catch
            {
                handle.Dispose();
                throw;
            }

            return WasiErrno.Success;
        }
        catch (Exception e) when (WasiErrno.FromHost(e) is { } hostErrno)
        {
            return hostErrno;
        }
    }

    /// <summary>Walks <paramref name="path"/> component by component from the root, refusing any symlink on the way.</summary>
    private int Check(IReadOnlyList<string> path, out string hostPath, out bool isDirectory)
    {
        hostPath = _root;
        isDirectory = true;
        for (var i = 0; i < path.Count; i++)
        {
            if (!isDirectory)
            {
                return WasiErrno.NotDirectory;
            }

            hostPath = Path.Join(hostPath, path[i]);
            FileAttributes attributes;
            string? linkTarget;
            try
            {
                attributes = File.GetAttributes(hostPath);
                linkTarget = new FileInfo(hostPath).LinkTarget;
            }
            catch (Exception e) when (WasiErrno.FromHost(e) is { } hostErrno)
            {
                return hostErrno;
            }

            // Never follow a host symlink: it may point anywhere on the host, outside the folder we were given.
            if ((attributes & FileAttributes.ReparsePoint) != 0 || linkTarget is not null)
            {
                return WasiErrno.NotCapable;
            }

            isDirectory = (attributes & FileAttributes.Directory) != 0;
        }

        return WasiErrno.Success;
    }

    /// <summary>The host paths given inode numbers so far, in number order (a snapshot keeps them: the guest may have seen them).</summary>
    internal string[] InodePaths => [.. _inodes.OrderBy(i => i.Value).Select(i => i.Key)];

    /// <summary>Gives the paths of a snapshot their numbers again, before anything else is numbered.</summary>
    internal void RestoreInodes(IReadOnlyList<string> paths)
    {
        if (_inodes.Count != 0)
        {
            throw new InvalidOperationException("inodes are restored into a fresh mount only");
        }

        foreach (var path in paths)
        {
            if (!_inodes.TryAdd(path, (ulong)_inodes.Count + 1))
            {
                throw new InvalidDataException("the snapshot numbers one path twice");
            }
        }
    }

    private ulong Inode(string hostPath)
    {
        if (!_inodes.TryGetValue(hostPath, out var inode))
        {
            inode = (ulong)_inodes.Count + 1;
            _inodes[hostPath] = inode;
        }

        return inode;
    }

    /// <summary>Saturates: a host timestamp past 2554 does not fit in u64 nanoseconds, and must not overflow (checked arithmetic throws).</summary>
    private static ulong Nanoseconds(DateTime utc) =>
        utc <= DateTime.UnixEpoch ? 0 : (ulong)Math.Min((utc - DateTime.UnixEpoch).Ticks, (long)(ulong.MaxValue / 100)) * 100;

    private sealed class HostOpenFile(SafeFileHandle handle, long length, ulong inode, ulong modified) : WasiOpenFile
    {
        public override long Length => length;

        public override ulong Inode => inode;

        public override ulong ModifiedNanoseconds => modified;

        public override int Read(Span<byte> buffer, long offset, out int read)
        {
            read = 0;

            // As pread(2): an offset whose end overflows is EINVAL. The host would refuse it too, by throwing.
            if (offset < 0 || offset > long.MaxValue - buffer.Length)
            {
                return WasiErrno.Invalid;
            }

            // Every failure of the host's read is the guest's errno (issue 17: it escaped as a sandbox error).
            try
            {
                read = RandomAccess.Read(handle, buffer, offset);
                return WasiErrno.Success;
            }
            catch (Exception e) when (WasiErrno.FromHost(e) is { } hostErrno)
            {
                return hostErrno;
            }
        }

        public override void Dispose()
        {
            handle.Dispose();
            base.Dispose();
        }
    }
}
