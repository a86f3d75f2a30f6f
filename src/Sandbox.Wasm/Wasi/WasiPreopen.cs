namespace Sandbox.Wasm.Wasi;

/// <summary>A read-only host folder the guest sees at <paramref name="GuestPath"/> (such as a runtime's own <c>/usr/local</c>).</summary>
/// <param name="GuestPath">Absolute guest path, such as <c>/usr/local</c>.</param>
/// <param name="HostPath">The host folder; symlinks inside it are never followed.</param>
public sealed record WasiPreopen(string GuestPath, string HostPath);
