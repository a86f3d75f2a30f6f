namespace Sandbox.Docker.Sessions;

/// <summary>
/// The JavaScript session kernel (<c>Kernels/javascript-kernel.js</c>): one Node process whose global context is kept
/// across cells. It reads frames (<see cref="CellFrame.Encode"/>) on fd 3, runs each cell as a script in the global context
/// (as the Node REPL does: top-level declarations persist, the last expression's value is printed, top-level
/// <c>await</c> works), waits for the promise it left and the timers and I/O it started, and ends each cell with the usual
/// markers. An exception ends the cell (exit code 1) and keeps the kernel.
/// </summary>
internal static class JavaScriptKernel
{
    /// <summary>
    /// Moves the frames to fd 3 and puts /dev/null on stdin, then runs the profile's command, so nothing a cell starts
    /// (a child process, a read of fd 0) can read the next cell's frame; the kernel serves the cell's own stdin itself.
    /// </summary>
    private const string Launcher = "exec 3<&0 </dev/null; exec \"$@\"";

    public static ReadOnlyMemory<byte> Source { get; } = KernelResource.Read("javascript-kernel.js");

    /// <summary>The launcher around the profile's command, with <c>--expose-internals</c> after <c>node</c>.</summary>
    public static IReadOnlyList<string> Command(IReadOnlyList<string> command)
    {
        ArgumentNullException.ThrowIfNull(command);
        // --expose-internals lends the kernel the REPL's top-level-await rewrite. It widens nothing: the cell's code already
        // runs as the same user in the same process, whose whole boundary is the container. A profile whose command does
        // not start with node runs the kernel without it (an awaiting cell's declarations then stay local to it).
        var node = command.Count > 0 && (command[0] == "node" || command[0].EndsWith("/node", StringComparison.Ordinal));
        return ["/bin/sh", "-c", Launcher, "sh", .. node ? [command[0], "--expose-internals", .. command.Skip(1)] : command];
    }
}
