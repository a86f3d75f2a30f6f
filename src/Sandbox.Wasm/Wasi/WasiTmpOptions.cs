namespace Sandbox.Wasm.Wasi;

/// <summary>The guest's writable, in-memory <c>/tmp</c>: private to one run, gone when the host is disposed.</summary>
public sealed record WasiTmpOptions
{
    /// <summary>Most bytes of file storage at once (allocated capacity, what the host holds; slack never costs usable space);
    /// writes past it fail with ENOSPC. Truncating or removing a file gives its storage back.</summary>
    public long MaxBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Most files and folders at once; creating more fails with ENOSPC (like a tmpfs out of inodes).</summary>
    public int MaxEntries { get; init; } = 4096;

    /// <summary>Largest single file; a write past it fails with EFBIG.</summary>
    public long MaxFileBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Files present at start, by relative path (folders are created); they count against the caps.</summary>
    public IReadOnlyDictionary<string, ReadOnlyMemory<byte>> Files { get; init; } = new Dictionary<string, ReadOnlyMemory<byte>>();
}
