using Sandbox.Core.Limits;

namespace Sandbox.Core.Runs;

/// <summary>
/// What a caller asks to run: the one definition of a run request on every surface. The HTTP body is this plus how
/// to answer it, the MCP tool's arguments are this, and the CLI builds one from its options; JSON names are
/// <see cref="RunRequestFields"/>, JSON is read by <see cref="RunRequestReader"/> and every request is checked by
/// <see cref="RunRequestValidator"/>. Not sealed only so the HTTP body can extend it with its answer options.
/// </summary>
public record RunRequest
{
    /// <summary>The language, such as <c>python</c> (see <c>GET /v1/languages</c>); it picks the default profile of the same name.</summary>
    public required string Language { get; init; }

    /// <summary>The program's source text.</summary>
    public required string Code { get; init; }

    /// <summary>Text given to the program on standard input.</summary>
    public string? Stdin { get; init; }

    /// <summary>Files written beside the program before it starts.</summary>
    public IReadOnlyList<InputFile>? Files { get; init; }

    /// <summary>A profile by name (see <c>GET /v1/profiles</c>); without it the language's default profile runs.</summary>
    public string? Profile { get; init; }

    /// <summary>Limits that tighten the profile's; never loosen them.</summary>
    public LimitOverrides? Limits { get; init; }

    /// <summary>The container runtime to ask for (<c>runc</c>, <c>crun</c> or <c>runsc</c>): never a weaker one than the profile's.</summary>
    public string? Runtime { get; init; }

    /// <summary>
    /// The backend to ask for (<c>docker</c> or <c>wasm</c>): the language's default profile when it uses that
    /// backend, else the profile named after both (such as <c>python-wasm</c>); refused when neither exists.
    /// </summary>
    public string? Backend { get; init; }

    /// <summary>Why the caller runs this code, in its own words; kept with the run for the audit trail.</summary>
    public string? Purpose { get; init; }
}
