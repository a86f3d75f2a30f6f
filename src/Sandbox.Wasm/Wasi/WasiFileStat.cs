namespace Sandbox.Wasm.Wasi;

/// <summary>The fields of a preview1 <c>filestat</c> we fill in (times in nanoseconds since the Unix epoch).</summary>
internal readonly record struct WasiFileStat(byte FileType, ulong Inode, ulong Size, ulong ModifiedNanoseconds);

/// <summary>One entry of a directory listing.</summary>
internal readonly record struct WasiDirectoryEntry(string Name, byte FileType, ulong Inode);
