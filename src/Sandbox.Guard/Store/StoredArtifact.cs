namespace Sandbox.Guard.Store;

/// <summary>A file a run returned from <c>/tmp/outputs</c>, kept with the run's row (and deleted with it) for downloading.</summary>
/// <param name="Path">Its path under <c>/tmp/outputs</c>, already checked as a plain relative path.</param>
/// <param name="MediaType">The sniffed, allow-listed media type it is served with.</param>
/// <param name="Sha256">The SHA-256 of <paramref name="Bytes"/>, lowercase hex, as the result and the audit record give it.</param>
/// <param name="Bytes">The file's bytes.</param>
public sealed record StoredArtifact(string Path, string MediaType, string Sha256, ReadOnlyMemory<byte> Bytes);
