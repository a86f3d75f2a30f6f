namespace Sandbox.Wasm.Wasi;

/// <remarks>Descriptor calls: stdio, files and directories.</remarks>
public sealed partial class WasiHost
{
    /// <summary>Every right preview1 defines; we report them all and enforce writability per mount and descriptor instead.</summary>
    private const ulong AllRights = 0x1FFF_FFFF;

    private const ushort AppendFlag = 1;

    /// <summary>
    /// Most iovecs in one fd_read, fd_write, fd_pread or fd_pwrite: Linux's IOV_MAX. Each iovec is host work no fuel
    /// pays for, so without a cap one call could loop over 2^25 of them; past it the call fails with EINVAL, as
    /// readv/writev do.
    /// </summary>
    internal const int MaxIovecs = 1024;

    private bool IsOpen(uint fd) => IsStdio(fd) || _descriptors.ContainsKey(fd);

    private int FdWrite(WasmCallContext context, Span<ulong> args) => WriteVectors(context, (uint)args[0], (uint)args[1], (uint)args[2], null, (uint)args[3]);

    private int FdPwrite(WasmCallContext context, Span<ulong> args) => WriteVectors(context, (uint)args[0], (uint)args[1], (uint)args[2], (long)args[3], (uint)args[4]);

    private int WriteVectors(WasmCallContext context, uint fd, uint iovs, uint count, long? offset, uint resultPointer)
    {
        WasiDescriptor? descriptor = null;
        if (fd is not (1 or 2) && (!_descriptors.TryGetValue(fd, out descriptor) || descriptor.File is null || !descriptor.Writable))
        {
            return WasiErrno.BadFileDescriptor;
        }

        var memory = new GuestMemory(context);
        var checkErrno = CheckVectors(memory, descriptor is null, iovs, count, offset);
        if (checkErrno != WasiErrno.Success)
        {
            return checkErrno;
        }

        ulong written = 0;
        var position = offset ?? (descriptor is null ? 0 : (descriptor.Flags & AppendFlag) != 0 ? descriptor.File!.Length : descriptor.Position);
        for (var i = 0u; i < count; i++)
        {
            var entry = iovs + (i * 8);
            var data = memory.Slice(memory.ReadU32(entry), memory.ReadU32(entry + 4));
            if (descriptor is null)
            {
                // Bytes past the cap are dropped but reported written, so the guest does not spin retrying;
                // the host sees the flood through StdoutTruncated/StderrTruncated (or stops the guest).
                Write(fd == 1, data);
            }
            else
            {
                var errno = descriptor.File!.Write(data, position);
                if (errno != WasiErrno.Success)
                {
                    // A partial write is reported as such; an error only when nothing was written.
                    if (written == 0)
                    {
                        return errno;
                    }

                    break;
                }

                position += data.Length;
            }

            written += (uint)data.Length;
        }

        return EndVectors(memory, descriptor, offset, position, resultPointer, (uint)Math.Min(written, uint.MaxValue));
    }

    /// <summary>
    /// What the four vector calls check before touching a byte, in this order: stdio has no position (ESPIPE), an offset is
    /// not negative (EINVAL), the iovec array lies in guest memory (EFAULT), and there are at most <see cref="MaxIovecs"/>
    /// of them (EINVAL, like readv/writev past IOV_MAX).
    /// </summary>
    private static int CheckVectors(GuestMemory memory, bool stdio, uint iovs, uint count, long? offset)
    {
        if (stdio && offset is not null)
        {
            return WasiErrno.InvalidSeek;
        }

        if (offset < 0)
        {
            return WasiErrno.Invalid;
        }

        memory.Slice(iovs, (ulong)count * 8);
        return count > MaxIovecs ? WasiErrno.Invalid : WasiErrno.Success;
    }

    /// <summary>The end of the four vector calls: the descriptor's position moves unless an explicit offset was given (pread, pwrite), and the guest learns the byte count.</summary>
    private static int EndVectors(GuestMemory memory, WasiDescriptor? descriptor, long? offset, long position, uint resultPointer, uint bytes)
    {
        if (descriptor is not null && offset is null)
        {
            descriptor.Position = position;
        }

        memory.WriteU32(resultPointer, bytes);
        return WasiErrno.Success;
    }

    private int FdRead(WasmCallContext context, Span<ulong> args) => ReadVectors(context, (uint)args[0], (uint)args[1], (uint)args[2], null, (uint)args[3]);

    private int FdPread(WasmCallContext context, Span<ulong> args) => ReadVectors(context, (uint)args[0], (uint)args[1], (uint)args[2], (long)args[3], (uint)args[4]);

    private int ReadVectors(WasmCallContext context, uint fd, uint iovs, uint count, long? offset, uint resultPointer)
    {
        WasiDescriptor? descriptor = null;
        if (fd != 0)
        {
            if (!_descriptors.TryGetValue(fd, out descriptor))
            {
                return WasiErrno.BadFileDescriptor;
            }

            if (descriptor.File is null)
            {
                return WasiErrno.IsDirectory;
            }

            if (!descriptor.Readable)
            {
                return WasiErrno.BadFileDescriptor;
            }
        }

        var memory = new GuestMemory(context);
        var checkErrno = CheckVectors(memory, descriptor is null, iovs, count, offset);
        if (checkErrno != WasiErrno.Success)
        {
            return checkErrno;
        }

        var position = offset ?? descriptor?.Position ?? 0;
        var read = 0u;
        for (var i = 0u; i < count; i++)
        {
            var entry = iovs + (i * 8);
            var buffer = memory.Slice(memory.ReadU32(entry), memory.ReadU32(entry + 4));
            int n;
            if (descriptor is null)
            {
                var stdin = _stdin.Span;
                n = Math.Min(buffer.Length, stdin.Length - _stdinPosition);
                stdin.Slice(_stdinPosition, n).CopyTo(buffer);
                _stdinPosition += n;
            }
            else
            {
                var errno = descriptor.File!.Read(buffer, position, out n);
                if (errno != WasiErrno.Success)
                {
                    // As with writes: an error only when nothing was read, otherwise a short read.
                    if (read == 0)
                    {
                        return errno;
                    }

                    break;
                }

                position += n;
            }

            read += (uint)n;
            if (n < buffer.Length)
            {
                break;
            }
        }

        return EndVectors(memory, descriptor, offset, position, resultPointer, read);
    }

    /// <summary>The descriptor fd_seek and fd_tell move or read: stdio has no position (ESPIPE), an unknown fd is EBADF.</summary>
    private int Positioned(uint fd, out WasiDescriptor? descriptor)
    {
        descriptor = null;
        if (IsStdio(fd))
        {
            return WasiErrno.InvalidSeek;
        }

        return _descriptors.TryGetValue(fd, out descriptor) ? WasiErrno.Success : WasiErrno.BadFileDescriptor;
    }

    private int FdSeek(WasmCallContext context, Span<ulong> args)
    {
        var errno = Positioned((uint)args[0], out var descriptor);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        if (descriptor!.File is null)
        {
            return WasiErrno.IsDirectory;
        }

        var delta = (long)args[1];
        long origin = (uint)args[2] switch
        {
            0 => 0,
            1 => descriptor.Position,
            2 => descriptor.File.Length,
            _ => -1,
        };
        if (origin < 0)
        {
            return WasiErrno.Invalid;
        }

        // Checked: a hostile offset must become EINVAL, not a wrapped position.
        long target;
        try
        {
            target = checked(origin + delta);
        }
        catch (OverflowException)
        {
            return WasiErrno.Invalid;
        }

        if (target < 0)
        {
            return WasiErrno.Invalid;
        }

        new GuestMemory(context).WriteU64((uint)args[3], (ulong)target);
        descriptor.Position = target;
        return WasiErrno.Success;
    }

    private int FdTell(WasmCallContext context, Span<ulong> args)
    {
        var errno = Positioned((uint)args[0], out var descriptor);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        new GuestMemory(context).WriteU64((uint)args[1], (ulong)descriptor!.Position);
        return WasiErrno.Success;
    }

    private int FdClose(WasmCallContext context, Span<ulong> args)
    {
        var fd = (uint)args[0];
        if (IsStdio(fd))
        {
            return WasiErrno.Success;
        }

        if (!_descriptors.Remove(fd, out var descriptor))
        {
            return WasiErrno.BadFileDescriptor;
        }

        descriptor.File?.Dispose();
        return WasiErrno.Success;
    }

    private int FdFdstatGet(WasmCallContext context, Span<ulong> args)
    {
        var fd = (uint)args[0];
        byte type;
        ushort flags = 0;
        ulong rights, inheriting = 0;
        if (IsStdio(fd))
        {
            type = WasiFileType.CharacterDevice;
            rights = fd == 0 ? 0x2UL : 0x40UL;
        }
        else if (_descriptors.TryGetValue(fd, out var descriptor))
        {
            type = descriptor.IsDirectory ? WasiFileType.Directory : WasiFileType.RegularFile;
            flags = descriptor.Flags;
            rights = AllRights;
            inheriting = AllRights;
        }
        else
        {
            return WasiErrno.BadFileDescriptor;
        }

        // fdstat: u8 filetype, u16 flags at 2, u64 rights base at 8, u64 rights inheriting at 16.
        var memory = new GuestMemory(context);
        var pointer = (uint)args[1];
        memory.Slice(pointer, 24).Clear();
        memory.WriteU8(pointer, type);
        memory.WriteU16(pointer + 2, flags);
        memory.WriteU64(pointer + 8, rights);
        memory.WriteU64(pointer + 16, inheriting);
        return WasiErrno.Success;
    }

    private int FdFdstatSetFlags(WasmCallContext context, Span<ulong> args)
    {
        var fd = (uint)args[0];
        if (IsStdio(fd))
        {
            return WasiErrno.Success;
        }

        if (!_descriptors.TryGetValue(fd, out var descriptor))
        {
            return WasiErrno.BadFileDescriptor;
        }

        descriptor.Flags = (ushort)args[1];
        return WasiErrno.Success;
    }

    private int FdFilestatGet(WasmCallContext context, Span<ulong> args)
    {
        var fd = (uint)args[0];
        WasiFileStat stat;
        if (IsStdio(fd))
        {
            stat = new WasiFileStat(WasiFileType.CharacterDevice, 0, 0, 0);
        }
        else if (!_descriptors.TryGetValue(fd, out var descriptor))
        {
            return WasiErrno.BadFileDescriptor;
        }
        else if (descriptor.File is { } file)
        {
            stat = new WasiFileStat(WasiFileType.RegularFile, file.Inode, (ulong)file.Length, file.ModifiedNanoseconds);
        }
        else
        {
            var errno = descriptor.Mount.Stat(descriptor.Path, out stat);
            if (errno != WasiErrno.Success)
            {
                return errno;
            }
        }

        WriteFileStat(new GuestMemory(context), (uint)args[1], stat);
        return WasiErrno.Success;
    }

    private int FdFilestatSetSize(WasmCallContext context, Span<ulong> args)
    {
        if (!_descriptors.TryGetValue((uint)args[0], out var descriptor) || descriptor.File is null || !descriptor.Writable)
        {
            return WasiErrno.BadFileDescriptor;
        }

        return (long)args[1] < 0 ? WasiErrno.Invalid : descriptor.File.SetLength((long)args[1]);
    }

    private static void WriteFileStat(GuestMemory memory, uint pointer, WasiFileStat stat)
    {
        // filestat: dev u64, ino u64, filetype u8 at 16, nlink u64 at 24, size at 32, atim 40, mtim 48, ctim 56.
        memory.Slice(pointer, 64).Clear();
        memory.WriteU64(pointer + 8, stat.Inode);
        memory.WriteU8(pointer + 16, stat.FileType);
        memory.WriteU64(pointer + 24, 1);
        memory.WriteU64(pointer + 32, stat.Size);
        memory.WriteU64(pointer + 40, stat.ModifiedNanoseconds);
        memory.WriteU64(pointer + 48, stat.ModifiedNanoseconds);
        memory.WriteU64(pointer + 56, stat.ModifiedNanoseconds);
    }

    private int FdReaddir(WasmCallContext context, Span<ulong> args)
    {
        if (!_descriptors.TryGetValue((uint)args[0], out var descriptor))
        {
            return WasiErrno.BadFileDescriptor;
        }

        if (!descriptor.IsDirectory)
        {
            return WasiErrno.NotDirectory;
        }

        var memory = new GuestMemory(context);
        var buffer = memory.Slice((uint)args[1], (uint)args[2]);
        var errno = descriptor.Mount.List(descriptor.Path, out var entries);
        if (errno != WasiErrno.Success)
        {
            return errno;
        }

        // The cookie is the index of the next entry; entries are sorted, so a listing resumes where it stopped.
        var cookie = args[3];
        var used = 0;
        Span<byte> header = stackalloc byte[24];
        for (var i = cookie; i < (ulong)entries.Count && used < buffer.Length; i++)
        {
            var entry = entries[(int)i];
            var name = System.Text.Encoding.UTF8.GetBytes(entry.Name);

            // dirent: d_next u64, d_ino u64, d_namlen u32, d_type u8; then the name. A truncated last entry
            // (buffer full) tells libc to call again with a bigger buffer.
            header.Clear();
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(header, i + 1);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(header[8..], entry.Inode);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header[16..], (uint)name.Length);
            header[20] = entry.FileType;
            var n = Math.Min(header.Length, buffer.Length - used);
            header[..n].CopyTo(buffer[used..]);
            used += n;
            n = Math.Min(name.Length, buffer.Length - used);
            name.AsSpan(0, n).CopyTo(buffer[used..]);
            used += n;
        }

        memory.WriteU32((uint)args[4], (uint)used);
        return WasiErrno.Success;
    }

    /// <summary>A preopened directory's descriptor, the only kind fd_prestat_get and fd_prestat_dir_name describe.</summary>
    private bool TryGetPreopen(ulong fd, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out WasiDescriptor? descriptor) =>
        _descriptors.TryGetValue((uint)fd, out descriptor) && descriptor.IsPreopen;

    private int FdPrestatGet(WasmCallContext context, Span<ulong> args)
    {
        if (!TryGetPreopen(args[0], out var descriptor))
        {
            return WasiErrno.BadFileDescriptor;
        }

        // prestat: u8 tag (0 = directory), u32 name length at 4.
        var memory = new GuestMemory(context);
        var pointer = (uint)args[1];
        memory.Slice(pointer, 8).Clear();
        memory.WriteU32(pointer + 4, (uint)System.Text.Encoding.UTF8.GetByteCount(descriptor.Mount.GuestPath));
        return WasiErrno.Success;
    }

    private int FdPrestatDirName(WasmCallContext context, Span<ulong> args)
    {
        if (!TryGetPreopen(args[0], out var descriptor))
        {
            return WasiErrno.BadFileDescriptor;
        }

        var name = System.Text.Encoding.UTF8.GetBytes(descriptor.Mount.GuestPath);
        if ((uint)args[2] < name.Length)
        {
            return WasiErrno.NameTooLong;
        }

        name.CopyTo(new GuestMemory(context).Slice((uint)args[1], (uint)name.Length));
        return WasiErrno.Success;
    }
}
