using System.Text.Json.Serialization;

namespace Sandbox.Core.Runs;

/// <summary>A file the program left under <c>/tmp/outputs</c>, returned with its result.</summary>
public sealed record RunArtifact
{
    /// <summary>The folder a program writes its artifacts to, on every backend.</summary>
    public const string Folder = "/tmp/outputs";

    /// <summary>Its path under <see cref="Folder"/>, such as <c>plots/figure-1.png</c>: always a plain relative path (see <see cref="RelativePath"/>).</summary>
    public required string Path { get; init; }

    /// <summary>Its size in bytes.</summary>
    public required long SizeBytes { get; init; }

    /// <summary>The SHA-256 of its bytes, lowercase hex.</summary>
    public required string Sha256 { get; init; }

    /// <summary>
    /// Its media type, sniffed from the bytes and allow-listed (<see cref="Artifacts.MediaTypes"/>): the program's own name for
    /// the file never decides it, and anything not on the list is <c>application/octet-stream</c>.
    /// </summary>
    public required string MediaType { get; init; }

    /// <summary>The bytes themselves; not in the JSON result (they are downloaded, or embedded by MCP within a budget).</summary>
    [JsonIgnore]
    public ReadOnlyMemory<byte> Content { get; init; }
}
