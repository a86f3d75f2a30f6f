namespace Sandbox.Wasm.Tests.Differential;

/// <summary>One guest invocation, described once and run under both engines.</summary>
/// <param name="WasmPath">The module to run.</param>
/// <param name="Args">argv after the program name.</param>
/// <param name="Stdin">Bytes on fd 0.</param>
/// <param name="Preopens">Read-only folders, guest path to host path (CPython's <c>/usr/local</c>).</param>
internal sealed record GuestInput(string WasmPath, IReadOnlyList<string> Args, byte[] Stdin, IReadOnlyDictionary<string, string> Preopens)
{
    public static GuestInput Of(string wasmPath, params string[] args) =>
        new(wasmPath, args, [], new Dictionary<string, string>());

    /// <summary>argv[0] both engines pass: the file name without .wasm.</summary>
    public string ProgramName => Path.GetFileNameWithoutExtension(WasmPath);
}
