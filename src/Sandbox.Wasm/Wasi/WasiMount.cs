namespace Sandbox.Wasm.Wasi;

/// <summary>
/// One preopened tree. Paths arrive as already-normalised component lists relative to the mount's root
/// (<see cref="WasiPathResolver"/> has removed '.', resolved '..' lexically and refused escapes), so a
/// mount never sees a path that leaves it. Write operations default to EROFS.
/// </summary>
internal abstract class WasiMount : IDisposable
{
    protected WasiMount(string guestPath)
    {
        GuestPath = guestPath;
    }

    /// <summary>The absolute guest path reported by fd_prestat_dir_name, such as <c>/tmp</c>.</summary>
    public string GuestPath { get; }

    public abstract bool IsReadOnly { get; }

    public abstract int Stat(IReadOnlyList<string> path, out WasiFileStat stat);

    public abstract int List(IReadOnlyList<string> path, out IReadOnlyList<WasiDirectoryEntry> entries);

    /// <summary>Opens a regular file; <paramref name="write"/>, <paramref name="create"/>, <paramref name="exclusive"/> and <paramref name="truncate"/> follow path_open.</summary>
    public abstract int OpenFile(IReadOnlyList<string> path, bool write, bool create, bool exclusive, bool truncate, out WasiOpenFile? file);

    public virtual int CreateDirectory(IReadOnlyList<string> path) => WasiErrno.ReadOnlyFileSystem;

    public virtual int UnlinkFile(IReadOnlyList<string> path) => WasiErrno.ReadOnlyFileSystem;

    public virtual int RemoveDirectory(IReadOnlyList<string> path) => WasiErrno.ReadOnlyFileSystem;

    public virtual int Rename(IReadOnlyList<string> from, IReadOnlyList<string> to) => WasiErrno.ReadOnlyFileSystem;

    public virtual void Dispose()
    {
    }
}

/// <summary>An open regular file.</summary>
internal abstract class WasiOpenFile : IDisposable
{
    public abstract long Length { get; }

    public abstract ulong Inode { get; }

    public abstract ulong ModifiedNanoseconds { get; }

    /// <summary>Reads at <paramref name="offset"/> into <paramref name="buffer"/>; returns an errno, with the bytes read
    /// (0 at end of file) in <paramref name="read"/>. A failure of the host never throws: it is the guest's errno.</summary>
    public abstract int Read(Span<byte> buffer, long offset, out int read);

    /// <summary>Writes at <paramref name="offset"/>; returns an errno.</summary>
    public virtual int Write(ReadOnlySpan<byte> data, long offset) => WasiErrno.BadFileDescriptor;

    /// <summary>Sets the length (ftruncate); returns an errno.</summary>
    public virtual int SetLength(long length) => WasiErrno.BadFileDescriptor;

    public virtual void Dispose()
    {
    }
}
