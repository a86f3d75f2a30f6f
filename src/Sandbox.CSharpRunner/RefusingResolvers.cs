using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace Sandbox.CSharpRunner;

/// <summary>
/// Resolves no <c>#load</c> file: scripts see only their own text. The directive scan in
/// <see cref="DirectiveGuard"/> reports a clear error first; this is the second layer.
/// </summary>
internal sealed class RefusingSourceResolver : SourceReferenceResolver
{
    public static RefusingSourceResolver Instance { get; } = new();

    public override string? NormalizePath(string path, string? baseFilePath) => null;

    public override string? ResolveReference(string path, string? baseFilePath) => null;

    public override Stream OpenRead(string resolvedPath) =>
        throw new UnauthorizedAccessException("#load is not allowed in the sandbox");

    public override bool Equals(object? other) => other is RefusingSourceResolver;

    public override int GetHashCode() => nameof(RefusingSourceResolver).GetHashCode(StringComparison.Ordinal);
}

/// <summary>Resolves no <c>#r</c> reference: scripts get the default framework references and nothing else.</summary>
internal sealed class RefusingMetadataResolver : MetadataReferenceResolver
{
    public static RefusingMetadataResolver Instance { get; } = new();

    public override bool ResolveMissingAssemblies => false;

    public override ImmutableArray<PortableExecutableReference> ResolveReference(
        string reference, string? baseFilePath, MetadataReferenceProperties properties) => [];

    public override PortableExecutableReference? ResolveMissingAssembly(MetadataReference definition, AssemblyIdentity referenceIdentity) => null;

    public override bool Equals(object? other) => other is RefusingMetadataResolver;

    public override int GetHashCode() => nameof(RefusingMetadataResolver).GetHashCode(StringComparison.Ordinal);
}
