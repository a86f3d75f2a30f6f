namespace Sandbox.CSharpRunner;

/// <summary>
/// The runner's exit codes. The csharp profile maps <see cref="CompileError"/> to <c>compile_error</c>
/// (its <c>compileErrorExitCode</c>); a script's own <c>Environment.Exit(n)</c> passes through unchanged.
/// </summary>
internal static class ExitCodes
{
    /// <summary>The script ran to its end.</summary>
    public const int Success = 0;

    /// <summary>The script threw; the exception is on stderr.</summary>
    public const int RuntimeError = 1;

    /// <summary>The runner was called without exactly one script path (sysexits EX_USAGE).</summary>
    public const int Usage = 64;

    /// <summary>The script did not compile, or used <c>#r</c>/<c>#load</c>; diagnostics are on stderr (sysexits EX_DATAERR).</summary>
    public const int CompileError = 65;

    /// <summary>The script file could not be read (sysexits EX_NOINPUT).</summary>
    public const int NoInput = 66;
}
