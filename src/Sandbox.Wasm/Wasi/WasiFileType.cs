namespace Sandbox.Wasm.Wasi;

/// <summary>The preview1 <c>filetype</c> values we report.</summary>
internal static class WasiFileType
{
    public const byte Unknown = 0;
    public const byte CharacterDevice = 2;
    public const byte Directory = 3;
    public const byte RegularFile = 4;
    public const byte SymbolicLink = 7;
}
