using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;

namespace Sandbox.Docker.Sessions;

/// <summary>
/// What keeps one language's state in a session: the kernel's source (sent as the profile's source file through the usual
/// file payload, so the images need no change), the command that starts it from the profile's, and how a cell is framed
/// for it. Every kernel ends a cell the same way (<see cref="CellMarker"/>) and hands out <c>/tmp/outputs</c> as a run's
/// outputs step does, so the host side of a session is one for all.
/// </summary>
internal sealed record KernelProgram
{
    private static readonly KernelProgram s_python = new()
    {
        Source = System.Text.Encoding.UTF8.GetBytes(PythonKernel.Source),
        Command = command => command,
        Frame = CellFrame.Encode,
    };

    private static readonly KernelProgram s_javascript = new()
    {
        Source = JavaScriptKernel.Source,
        Command = JavaScriptKernel.Command,
        Frame = CellFrame.Encode,
    };

    private static readonly KernelProgram s_bash = new()
    {
        Source = BashKernel.Source,
        Command = command => command,
        Frame = CellFrame.EncodeForShell,
    };

    /// <summary>The languages with a kernel.</summary>
    public static IReadOnlySet<string> Languages { get; } = new HashSet<string>(StringComparer.Ordinal) { "python", "javascript", "bash" };

    /// <summary>The kernel's source, written as the profile's source file.</summary>
    public required ReadOnlyMemory<byte> Source { get; init; }

    /// <summary>The kernel's command, made from the profile's.</summary>
    public required Func<IReadOnlyList<string>, IReadOnlyList<string>> Command { get; init; }

    /// <summary>A cell's frame on the kernel's stdin: nonce, request, whether to hand out <c>/tmp/outputs</c>.</summary>
    public required Func<string, RunRequest, bool, byte[]> Frame { get; init; }

    /// <summary>The kernel for <paramref name="profile"/>'s language (which <see cref="DockerSessions.Supports"/> checked).</summary>
    public static KernelProgram For(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return profile.Language switch
        {
            "python" => s_python,
            "javascript" => s_javascript,
            "bash" => s_bash,
            _ => throw new ArgumentException($"language '{profile.Language}' has no session kernel", nameof(profile)),
        };
    }
}
