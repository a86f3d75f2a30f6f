using Sandbox.Core.Runs;

namespace Sandbox.Cli.Hosting;

/// <summary>
/// Exit codes of <c>sandbox run</c>. For <c>ok</c> and <c>runtime_error</c> it is the program's own code
/// (128 + N for a signal); every other status has a distinct code of its own, so CI can branch on it.
/// </summary>
internal static class CliExitCodes
{
    public const int UsageError = 2;
    public const int CompileError = 201;
    public const int Timeout = 202;
    public const int CpuLimit = 203;
    public const int MemoryLimit = 204;
    public const int OutputLimit = 205;
    public const int Rejected = 206;
    public const int SandboxError = 207;
    public const int Cancelled = 208;

    /// <summary>What a failed program's exit code becomes: a failure a shell can always see.</summary>
    public const int OutOfRangeFailure = 1;

    /// <summary>
    /// A program's code when it fits a process exit status (1 to 255), else <see cref="OutOfRangeFailure"/>: a
    /// WebAssembly guest may exit with any 32-bit code, and 256 (or -256) would wrap to 0 and read as success.
    /// </summary>
    public static int ProgramFailure(long code) => code is >= 1 and <= 255 ? (int)code : OutOfRangeFailure;

    public static int For(RunResult result) => result.Status switch
    {
        RunStatus.Ok => 0,
        RunStatus.RuntimeError => ProgramFailure(result.ExitCode ?? (result.Signal is { } s ? 128 + s : 1)),
        RunStatus.CompileError => CompileError,
        RunStatus.Timeout => Timeout,
        RunStatus.CpuLimit => CpuLimit,
        RunStatus.MemoryLimit => MemoryLimit,
        RunStatus.OutputLimit => OutputLimit,
        RunStatus.Rejected => Rejected,
        RunStatus.SandboxError => SandboxError,
        RunStatus.Cancelled => Cancelled,
        _ => SandboxError,
    };
}
