namespace Sandbox.Core.Runs;

/// <summary>Checks that a caller-supplied path stays inside the working directory it is written under.</summary>
public static class RelativePath
{
    /// <summary>Longest accepted path, in characters.</summary>
    public const int MaxLength = 255;

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
        }

        return null;
    }
}
