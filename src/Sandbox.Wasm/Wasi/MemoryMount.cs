namespace Sandbox.Wasm.Wasi;

/// <summary>
/// The guest's writable <c>/tmp</c>, held in managed memory and never on the host's disk. Capped in bytes
/// (ENOSPC), entries (ENOSPC, like a tmpfs out of inodes) and single-file size (EFBIG), so a guest cannot
/// turn it into a host memory bomb. No symlinks or hard links exist here: path_symlink and path_link are
/// not provided.
/// </summary>
internal sealed class MemoryMount : WasiMount
{
    private readonly WasiTmpOptions _options;
    private readonly long _maxFileBytes;
    private readonly TimeProvider _time;
    private readonly Node _root;
    private ulong _nextInode = 1;

    public MemoryMount(string guestPath, WasiTmpOptions options, TimeProvider time)
        : base(guestPath)
    {
        _options = options;
        _time = time;

        // A file is one managed array, so no single file can be larger than an array may be.
        _maxFileBytes = Math.Min(options.MaxFileBytes, Array.MaxLength);
        _root = NewNode(isDirectory: true);
        AddFiles(options.Files);
    }

    /// <summary>Creates <paramref name="files"/> (by relative path, folders made as needed) against the caps: at construction, or when a
    /// pre-initialised guest is handed its run (<see cref="WasiOptions.Gate"/>).</summary>
    /// <exception cref="ArgumentException">A path is not plain and relative, or the files do not fit the caps.</exception>
    internal void AddFiles(IReadOnlyDictionary<string, ReadOnlyMemory<byte>> files)
    {
        foreach (var (path, content) in files)
        {
            var components = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (components.Length == 0 || components.Any(c => c is "." or ".."))
            {
                throw new ArgumentException($"tmp file '{path}' must be a plain relative path");
            }

            for (var i = 1; i < components.Length; i++)
            {
                var errno = CreateDirectory(components[..i]);
                if (errno is not (WasiErrno.Success or WasiErrno.Exists))
                {
                    throw new ArgumentException($"tmp file '{path}': cannot create its folder (errno {errno})");
                }
            }

            var opened = OpenFile(components, write: true, create: true, exclusive: false, truncate: true, out var file);
            var written = opened == WasiErrno.Success ? file!.Write(content.Span, 0) : opened;
            if (written != WasiErrno.Success)
            {
                throw new ArgumentException($"tmp file '{path}' does not fit in /tmp's caps");
            }
        }
    }

    /// <summary>
    /// The files under <paramref name="folder"/> (a top-level folder of this mount), by path relative to it, in ordinal
    /// order of names at each level: what a run hands back from <c>/tmp/outputs</c>. There are no links here to follow.
    /// </summary>
    internal IEnumerable<(string Path, ReadOnlyMemory<byte> Content)> FilesUnder(string folder)
    {
        if (_root.Children?.GetValueOrDefault(folder) is not { IsDirectory: true } start)
        {
            yield break;
        }

        var pending = new Stack<(string Prefix, Node Node)>();
        pending.Push(("", start));
        while (pending.TryPop(out var entry))
        {
            // Pushed in reverse so names come out in order; folders before the files after them, as a walk would.
            foreach (var (name, child) in (entry.Node.Children ?? []).OrderByDescending(c => c.Key, StringComparer.Ordinal))
            {
                pending.Push((entry.Prefix + name + "/", child));
            }

            if (!ReferenceEquals(entry.Node, start) && !entry.Node.IsDirectory)
            {
                yield return (entry.Prefix.TrimEnd('/'), entry.Node.Data.AsMemory(0, (int)entry.Node.Length));
            }
        }
    }

    public override bool IsReadOnly => false;

    /// <summary>
    /// Bytes of file storage held now: the arrays' capacity, not the files' lengths, because capacity is what the host
    /// pays (a file truncated to 0 that kept its 16 MiB array let 40 such files hold 640 MB under a 64 MiB cap).
    /// </summary>
    public long UsedBytes { get; private set; }

    /// <summary>Most spare capacity one file keeps for appends: bounds what slack can take from the byte cap.</summary>
    private const long MaxSlackBytes = 1024 * 1024;

    /// <summary>Files and folders that exist now (the root not counted).</summary>
    public int Entries { get; private set; }

    public override int Stat(IReadOnlyList<string> path, out WasiFileStat stat)
    {
        stat = default;
        var errno = Find(path, out var node);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        stat = new WasiFileStat(node!.IsDirectory ? WasiFileType.Directory : WasiFileType.RegularFile, node.Inode, (ulong)node.Length, node.Modified);
        return WasiErrno.Success;
    }

    public override int List(IReadOnlyList<string> path, out IReadOnlyList<WasiDirectoryEntry> entries)
    {
        entries = [];
        var errno = Find(path, out var node);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        if (!node!.IsDirectory)
        {
            return WasiErrno.NotDirectory;
        }

        entries = [.. node.Children!.OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => new WasiDirectoryEntry(c.Key, c.Value.IsDirectory ? WasiFileType.Directory : WasiFileType.RegularFile, c.Value.Inode))];
        return WasiErrno.Success;
    }

    public override int OpenFile(IReadOnlyList<string> path, bool write, bool create, bool exclusive, bool truncate, out WasiOpenFile? file)
    {
        file = null;
        if (path.Count == 0)
        {
            return WasiErrno.IsDirectory;
        }

        var errno = FindParent(path, out var parent);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        var name = path[^1];
        if (parent!.Children!.TryGetValue(name, out var node))
        {
            if (create && exclusive)
            {
                return WasiErrno.Exists;
            }

            if (node.IsDirectory)
            {
                return WasiErrno.IsDirectory;
            }

            if (truncate)
            {
                SetLength(node, 0);
            }
        }
        else
        {
            if (!create)
            {
                return WasiErrno.NoEntry;
            }

            if (Entries >= _options.MaxEntries)
            {
                return WasiErrno.NoSpace;
            }

            node = NewNode(isDirectory: false);
            parent.Children[name] = node;
            Entries++;
            Touch(parent);
        }

        file = new MemoryOpenFile(this, node, write);
        return WasiErrno.Success;
    }

    public override int CreateDirectory(IReadOnlyList<string> path)
    {
        if (path.Count == 0)
        {
            return WasiErrno.Exists;
        }

        var errno = FindParent(path, out var parent);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        if (parent!.Children!.ContainsKey(path[^1]))
        {
            return WasiErrno.Exists;
        }

        if (Entries >= _options.MaxEntries)
        {
            return WasiErrno.NoSpace;
        }

        parent.Children[path[^1]] = NewNode(isDirectory: true);
        Entries++;
        Touch(parent);
        return WasiErrno.Success;
    }

    public override int UnlinkFile(IReadOnlyList<string> path)
    {
        var errno = FindChild(path, out var parent, out var node);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        if (node!.IsDirectory)
        {
            return WasiErrno.IsDirectory;
        }

        Remove(parent!, path[^1], node);
        return WasiErrno.Success;
    }

    public override int RemoveDirectory(IReadOnlyList<string> path)
    {
        if (path.Count == 0)
        {
            // The mount root itself cannot go: the preopen would dangle.
            return WasiErrno.Access;
        }

        var errno = FindChild(path, out var parent, out var node);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        if (!node!.IsDirectory)
        {
            return WasiErrno.NotDirectory;
        }

        if (node.Children!.Count > 0)
        {
            return WasiErrno.NotEmpty;
        }

        Remove(parent!, path[^1], node);
        return WasiErrno.Success;
    }

    public override int Rename(IReadOnlyList<string> from, IReadOnlyList<string> to)
    {
        if (from.Count == 0 || to.Count == 0)
        {
            return WasiErrno.Access;
        }

        var errno = FindChild(from, out var fromParent, out var node);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        // Moving a folder into itself would detach it from the tree (and loop forever on a later walk).
        if (node!.IsDirectory && to.Count > from.Count && from.SequenceEqual(to.Take(from.Count)))
        {
            return WasiErrno.Invalid;
        }

        errno = FindParent(to, out var toParent);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        if (toParent!.Children!.TryGetValue(to[^1], out var existing))
        {
            if (ReferenceEquals(existing, node))
            {
                return WasiErrno.Success;
            }

            if (existing.IsDirectory != node.IsDirectory)
            {
                return existing.IsDirectory ? WasiErrno.IsDirectory : WasiErrno.NotDirectory;
            }

            if (existing.IsDirectory && existing.Children!.Count > 0)
            {
                return WasiErrno.NotEmpty;
            }

            Remove(toParent, to[^1], existing);
        }

        fromParent!.Children!.Remove(from[^1]);
        toParent.Children[to[^1]] = node;
        Touch(fromParent);
        Touch(toParent);
        return WasiErrno.Success;
    }

    private void Remove(Node parent, string name, Node node)
    {
        parent.Children!.Remove(name);
        Entries--;

        // The storage is released at once, even if a descriptor still has the file open; its later writes count
        // again and are released when the last descriptor on it closes (Release).
        node.Unlinked = true;
        Release(node);
        Touch(parent);
    }

    /// <summary>Frees a file's storage and gives its bytes back to the cap.</summary>
    private void Release(Node node)
    {
        UsedBytes -= node.Data.Length;
        node.Data = [];
        node.Length = 0;
    }

    private int Find(IReadOnlyList<string> path, out Node? node)
    {
        node = _root;
        foreach (var name in path)
        {
            if (!node.IsDirectory)
            {
                return WasiErrno.NotDirectory;
            }

            if (!node.Children!.TryGetValue(name, out node))
            {
                return WasiErrno.NoEntry;
            }
        }

        return WasiErrno.Success;
    }

    private int FindParent(IReadOnlyList<string> path, out Node? parent)
    {
        var errno = Find([.. path.Take(path.Count - 1)], out parent);
        if (errno == WasiErrno.Success && !parent!.IsDirectory)
        {
            return WasiErrno.NotDirectory;
        }

        return errno;
    }

    private int FindChild(IReadOnlyList<string> path, out Node? parent, out Node? node)
    {
        node = null;
        if (path.Count == 0)
        {
            parent = null;
            return WasiErrno.Access;
        }

        var errno = FindParent(path, out parent);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        return parent!.Children!.TryGetValue(path[^1], out node) ? WasiErrno.Success : WasiErrno.NoEntry;
    }

    private Node NewNode(bool isDirectory) => new()
    {
        IsDirectory = isDirectory,
        Children = isDirectory ? new Dictionary<string, Node>(StringComparer.Ordinal) : null,
        Inode = _nextInode++,
        Modified = Now(),
    };

    private void Touch(Node node) => node.Modified = Now();

    private ulong Now() => (ulong)(_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;

    private int SetLength(Node node, long length)
    {
        if (length < 0)
        {
            return WasiErrno.Invalid;
        }

        if (length > _maxFileBytes)
        {
            return WasiErrno.FileTooBig;
        }

        var held = (long)node.Data.Length;
        if (length > held)
        {
            // Capacity is what counts against MaxBytes. Appends get slack (half the length, at least 4 KiB, at most
            // 1 MiB, never past the file cap) so they stay linear; when the slack does not fit, the exact length is
            // tried, so slack never costs the guest space it could have used.
            var capacity = Math.Min(_maxFileBytes, length + Math.Clamp(length / 2, 4096L, MaxSlackBytes));
            if (UsedBytes - held + capacity > _options.MaxBytes)
            {
                capacity = length;
            }

            if (UsedBytes - held + capacity > _options.MaxBytes)
            {
                return WasiErrno.NoSpace;
            }

            Array.Resize(ref node.Data, (int)capacity);
            UsedBytes += capacity - held;
        }
        else if (length < node.Length)
        {
            if (held - length > Math.Min(held / 2, MaxSlackBytes))
            {
                // Shrinking frees the storage (to exactly the new length): a truncated file must not keep its old array.
                var kept = node.Data;
                node.Data = length == 0 ? [] : kept.AsSpan(0, (int)length).ToArray();
                UsedBytes -= held - node.Data.Length;
            }
            else
            {
                // Kept as slack: bytes past the length must read as zeros if the file grows again.
                node.Data.AsSpan((int)length, (int)(node.Length - length)).Clear();
            }
        }

        node.Length = length;
        Touch(node);
        return WasiErrno.Success;
    }

    private sealed class Node
    {
        public bool IsDirectory;
        public Dictionary<string, Node>? Children;
        public byte[] Data = [];
        public long Length;

        /// <summary>Removed from the tree; its storage goes when the last descriptor on it closes.</summary>
        public bool Unlinked;

        /// <summary>Descriptors open on this file.</summary>
        public int OpenCount;
        public ulong Inode;
        public ulong Modified;
    }

    private sealed class MemoryOpenFile : WasiOpenFile
    {
        private readonly MemoryMount _mount;
        private readonly Node _node;
        private readonly bool _writable;
        private bool _closed;

        public MemoryOpenFile(MemoryMount mount, Node node, bool writable)
        {
            _mount = mount;
            _node = node;
            _writable = writable;
            node.OpenCount++;
        }

        public override void Dispose()
        {
            // Writes through a descriptor on an unlinked file counted against the cap: give them back at the last close.
            if (!_closed && --_node.OpenCount == 0 && _node.Unlinked)
            {
                _mount.Release(_node);
            }

            _closed = true;
            base.Dispose();
        }

        public override long Length => _node.Length;

        public override ulong Inode => _node.Inode;

        public override ulong ModifiedNanoseconds => _node.Modified;

        public override int Read(Span<byte> buffer, long offset, out int read)
        {
            read = 0;
            if (offset >= _node.Length)
            {
                return WasiErrno.Success;
            }

            read = (int)Math.Min(buffer.Length, _node.Length - offset);
            _node.Data.AsSpan((int)offset, read).CopyTo(buffer);
            return WasiErrno.Success;
        }

        public override int Write(ReadOnlySpan<byte> data, long offset)
        {
            if (!_writable)
            {
                return WasiErrno.BadFileDescriptor;
            }

            if (offset < 0 || offset > _mount._maxFileBytes || data.Length > _mount._maxFileBytes - offset)
            {
                return WasiErrno.FileTooBig;
            }

            var end = offset + data.Length;
            if (end > _node.Length)
            {
                var errno = _mount.SetLength(_node, end);
                if (errno != WasiErrno.Success)
                {
                    return errno;
                }
            }

            data.CopyTo(_node.Data.AsSpan((int)offset));
            _mount.Touch(_node);
            return WasiErrno.Success;
        }

        public override int SetLength(long length) => _writable ? _mount.SetLength(_node, length) : WasiErrno.BadFileDescriptor;
    }
}
