using Sandbox.Core.Limits;

namespace Sandbox.Core.Runs;

/// <summary>
/// The JSON names of <see cref="RunRequest"/>'s fields (its properties, camelCased; a unit test holds them to it),
/// for the reader, error messages and the MCP tool's schema.
/// </summary>
public static class RunRequestFields
{
    public const string Language = "language";
    public const string Code = "code";
    public const string Stdin = "stdin";
    public const string Files = "files";
    public const string Profile = "profile";
    public const string Limits = "limits";
    public const string Runtime = "runtime";
    public const string Backend = "backend";
    public const string Purpose = "purpose";

    /// <summary>The members of one entry of <see cref="Files"/> (<see cref="InputFile"/>).</summary>
    public const string FilePath = "path";

    /// <inheritdoc cref="FilePath"/>
    public const string FileContent = "content";

    /// <summary>Every field, in the order the documents list them.</summary>
    public static IReadOnlyList<string> All { get; } = [Language, Code, Stdin, Files, Profile, Limits, Runtime, Backend, Purpose];

    /// <summary>The members of <see cref="Limits"/> (<see cref="LimitOverrides"/>).</summary>
    public static IReadOnlyList<string> LimitNames { get; } =
    [
        Core.Limits.LimitNames.WallTimeMs, Core.Limits.LimitNames.CpuTimeMs, Core.Limits.LimitNames.MemoryBytes, Core.Limits.LimitNames.Pids,
        Core.Limits.LimitNames.StdoutBytes, Core.Limits.LimitNames.StderrBytes, Core.Limits.LimitNames.FileSizeBytes, Core.Limits.LimitNames.TmpBytes,
    ];
}
