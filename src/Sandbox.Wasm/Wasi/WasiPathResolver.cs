namespace Sandbox.Wasm.Wasi;

/// <summary>
/// Turns a guest path relative to a directory descriptor into components under that descriptor's mount.
/// Purely lexical, so it can never consult the host: the only way out of a mount would be '..' past its
/// root or an absolute path, and both are refused with ENOTCAPABLE, as wasi-libc expects.
/// </summary>
internal static class WasiPathResolver
{
    /// <summary>Longest path component accepted (NAME_MAX on Linux).</summary>
    public const int MaxComponentBytes = 255;

    /// <summary>Longest whole path accepted, in bytes (PATH_MAX).</summary>
    public const int MaxPathBytes = 4096;

    public static int Resolve(IReadOnlyList<string> directory, string path, out string[] components)
    {
        components = [];
        if (path.Length == 0)
        {
            return WasiErrno.NoEntry;
        }

        if (path.Length > MaxPathBytes)
        {
            return WasiErrno.NameTooLong;
        }

        // An absolute path would name the host's root, not the mount's: the guest must go through a preopen.
        if (path[0] == '/')
        {
            return WasiErrno.NotCapable;
        }

        // NUL cuts a host path short in the kernel; refuse it instead of letting the name mean something else.
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            return WasiErrno.Invalid;
        }

        var result = new List<string>(directory);
        foreach (var segment in path.Split('/'))
        {
            if (segment is "" or ".")
            {
                continue;
            }

            if (segment == "..")
            {
                // '..' at the mount root would leave the mount: the capability boundary.
                if (result.Count == 0)
                {
                    return WasiErrno.NotCapable;
                }

                result.RemoveAt(result.Count - 1);
                continue;
            }

            if (System.Text.Encoding.UTF8.GetByteCount(segment) > MaxComponentBytes)
            {
                return WasiErrno.NameTooLong;
            }

            result.Add(segment);
        }

        components = [.. result];
        return WasiErrno.Success;
    }
}
