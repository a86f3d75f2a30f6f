namespace Sandbox.Wasm.Wasi;

/// <summary>An open descriptor above stdio: a directory (a preopen or one opened under it) or a regular file.</summary>
internal sealed class WasiDescriptor
{
    public required WasiMount Mount { get; init; }

    /// <summary>The descriptor's path as components under <see cref="Mount"/>'s root (empty for the preopen itself).</summary>
    public required string[] Path { get; init; }

    /// <summary>The open file; null for a directory.</summary>
    public WasiOpenFile? File { get; init; }

    /// <summary>True for a preopen: fd_prestat_get describes it.</summary>
    public bool IsPreopen { get; init; }

    public bool IsDirectory => File is null;

    public bool Readable { get; init; }

    public bool Writable { get; init; }

    /// <summary>fdflags: only APPEND (1) changes behaviour; the rest are kept for fd_fdstat_get.</summary>
    public ushort Flags { get; set; }

    public long Position { get; set; }
}
