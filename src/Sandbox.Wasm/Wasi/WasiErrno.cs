namespace Sandbox.Wasm.Wasi;

/// <summary>The preview1 errno values we return.</summary>
internal static class WasiErrno
{
    public const int Success = 0;
    public const int BadFileDescriptor = 8;
    public const int Fault = 21;
    public const int Invalid = 28;
    public const int NotSupported = 52;
    public const int InvalidSeek = 70;
}
