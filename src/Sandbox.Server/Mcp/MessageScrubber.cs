using System.Text.RegularExpressions;

namespace Sandbox.Server.Mcp;

/// <summary>
/// Makes a message from our side (a result's message, a field error, a problem's detail) safe to show a
/// model: host paths, container ids and stack-trace lines are replaced. The model may be steered by hostile
/// code, so nothing it reads may map out the host (where profiles, guests or Docker's state live) or name a
/// container it could target. The program's own stdout and stderr are not touched: they are the program's
/// words, already sanitised by the gateway, and paths inside the sandbox are what the model needs to see.
/// </summary>
internal static partial class MessageScrubber
{
    public const string PathPlaceholder = "<path>";
    public const string IdPlaceholder = "<id>";
    public const string DaemonPlaceholder = "<daemon>";

    /// <summary>Longest message scrubbed and shown; the rest is cut.</summary>
    public const int MaxLength = 8 * 1024;

    public static string Scrub(string? message)
    {
        if (string.IsNullOrEmpty(message))
        {
            return "";
        }

        // Our messages are short; only echoed input (a 100 KB "language") makes one long, and the model needs none of it.
        // Cut first, so the patterns below run over a bounded text whatever the caller sent (the MCP fuzzer found a
        // 32 KB language took 2.6 s here).
        if (message.Length > MaxLength)
        {
            message = message[..MaxLength] + "…";
        }

        // Order matters: stack frames first (they contain paths we would otherwise half-replace).
        var text = StackFrame().Replace(message, "");
        // Daemon details next: the address (unix:///var/run/docker.sock hides its path behind "//", which the path
        // rule below leaves alone as part of a URL) and the operator's advice (start dockerd, fix DOCKER_HOST), which
        // tells a model, and whoever steers it, how the host is wired; the model's own advice is the sandbox_error hint.
        text = DaemonAddress().Replace(text, DaemonPlaceholder);
        text = WindowsPath().Replace(text, PathPlaceholder);
        text = UnixPath().Replace(text, PathPlaceholder);
        text = DaemonAdvice().Replace(text, "");
        text = LongHexId().Replace(text, IdPlaceholder);
        text = ShortContainerId().Replace(text, IdPlaceholder);
        return text.Trim();
    }

    /// <summary>A .NET stack frame line, "   at Namespace.Type.Method(...)" with or without "in file:line N".</summary>
    [GeneratedRegex(@"^[ \t]*at [\w.`<>\[\],+|-]+\(.*\)[^\n]*\n?", RegexOptions.Multiline)]
    private static partial Regex StackFrame();

    /// <summary>
    /// An absolute Unix path with at least one separator after its first segment (<c>/var/lib/docker</c>,
    /// <c>/home/u/profiles.json</c>), not part of a URL or a relative path (no word character, ':' or '/' before it).
    /// A lone <c>/tmp</c> or <c>/</c> says nothing about the host and stays.
    /// </summary>
    [GeneratedRegex(@"(?<![\w:/.~-])/[\w.@+~-]+(?:/[\w.@+~-]*)+")]
    private static partial Regex UnixPath();

    /// <summary>A daemon address such as <c>unix:///var/run/docker.sock</c> or <c>tcp://10.0.0.5:2375</c>.</summary>
    [GeneratedRegex(@"\b(?:unix|npipe|tcp|ssh|fd)://[^\s'"",;()]*", RegexOptions.IgnoreCase)]
    private static partial Regex DaemonAddress();

    /// <summary>A clause (between ';', '(' and ')') that mentions dockerd, DOCKER_HOST or docker.sock: advice for the operator, not the model.</summary>
    // Linear time: with backtracking, a long clause without the words is tried from every position (quadratic).
    [GeneratedRegex(@"\s*[;(]?[^;()\n]*\b(?:dockerd|DOCKER_HOST|docker\.sock)\b[^;()\n]*\)?", RegexOptions.IgnoreCase | RegexOptions.NonBacktracking)]
    private static partial Regex DaemonAdvice();

    /// <summary>A Windows path such as <c>C:\Users\me\profiles</c>.</summary>
    [GeneratedRegex(@"(?<![\w])[A-Za-z]:\\[^\s'""]*")]
    private static partial Regex WindowsPath();

    /// <summary>A full container or image id (64 hex digits), alone or after <c>sha256:</c>.</summary>
    [GeneratedRegex(@"(?<![0-9A-Za-z])[0-9a-fA-F]{64}(?![0-9A-Za-z])")]
    private static partial Regex LongHexId();

    /// <summary>
    /// A short container id as Docker prints it (12 hex digits, at least one a-f so plain numbers stay).
    /// Run ids (<c>run_</c> + 32 hex) are untouched: '_' before the digits is a word character.
    /// </summary>
    [GeneratedRegex(@"(?<![\w])(?=[0-9]*[a-f])[0-9a-f]{12}(?![\w])")]
    private static partial Regex ShortContainerId();
}
