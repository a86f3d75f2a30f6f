using Sandbox.Core.Limits;

namespace Sandbox.Core.Runs;

/// <summary>What a caller asks to run. Every front end (CLI, HTTP, MCP) builds one of these.</summary>
public sealed record RunRequest
{
    /// <summary>The language, such as <c>python</c>; it picks the default profile of the same name.</summary>
    public required string Language { get; init; }

    /// <summary>The program's source text.</summary>
    public required string Code { get; init; }

    /// <summary>Bytes fed to the program's standard input, or none.</summary>
    public string? Stdin { get; init; }

    /// <summary>Extra input files placed next to the program.</summary>
    public IReadOnlyList<InputFile>? Files { get; init; }

    /// <summary>A profile other than the language's default.</summary>
    public string? Profile { get; init; }

    /// <summary>Limits that tighten the profile's.</summary>
    public LimitOverrides? Limits { get; init; }

    /// <summary>Asks for a stronger container runtime (<c>runsc</c>) than the profile's; never a weaker one.</summary>
    public string? Runtime { get; init; }

    /// <summary>
    /// Forces a backend (<c>docker</c> or <c>wasm</c>): the language's default profile when it uses that
    /// backend, else the profile <c>&lt;language&gt;-&lt;backend&gt;</c> (such as <c>python-wasm</c>); rejected when neither exists.
    /// </summary>
    public string? Backend { get; init; }

    /// <summary>Why the caller runs this code, in its own words; kept for the audit trail.</summary>
    public string? Purpose { get; init; }
}
