namespace Sandbox.Core.Runs;

/// <summary>Checks that a caller-supplied path stays inside the working directory it is written under.</summary>
public static class RelativePath
{
    /// <summary>Longest accepted path, in characters.</summary>
    public const int MaxLength = 255;

    /// <summary>Longest accepted file or folder name, in UTF-8 bytes: the kernel's NAME_MAX, on every backend alike.</summary>
    public const int MaxSegmentBytes = 255;

    /// <summary>Returns why <paramref name="path"/> is unsafe, or null when it is a plain relative path.</summary>
    public static string? Check(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "must not be empty";
        }

        if (path.Length > MaxLength)
        {
            return $"must be at most {MaxLength} characters (got {path.Length})";
        }

        // NUL would cut the path short in the kernel; other control characters (newline above all)
        // would break the framing that carries files into the sandbox and confuse terminals.
        if (path.Any(char.IsControl))
        {
            return "must not contain NUL or other control characters";
        }

        if (path.StartsWith('/') || path.StartsWith('\\') || (path.Length > 1 && path[1] == ':'))
        {
            return "must be relative, not absolute";
        }

        if (path.Contains('\\'))
        {
            return "must use '/' as the separator";
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment is ".." or "." or "")
            {
                return "must not contain '..', '.' or empty segments";
            }

            // Checked here rather than left to the kernel: ENAMETOOLONG in the container blamed the program for it.
            if (System.Text.Encoding.UTF8.GetByteCount(segment) is var bytes && bytes > MaxSegmentBytes)
            {
                return $"has a name of {bytes} bytes; each name between '/' may be 1 to {MaxSegmentBytes} bytes of UTF-8";
            }
        }

        return null;
    }
}
