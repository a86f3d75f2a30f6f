namespace Sandbox.Wasm.Wasi;

/// <summary>The preview1 errno values we return.</summary>
internal static class WasiErrno
{
    public const int Success = 0;
    public const int Access = 2;
    public const int BadFileDescriptor = 8;
    public const int Exists = 20;
    public const int Fault = 21;
    public const int FileTooBig = 22;
    public const int IllegalByteSequence = 25;
    public const int Invalid = 28;
    public const int IO = 29;
    public const int IsDirectory = 31;
    public const int TooManyOpenFiles = 33;
    public const int NameTooLong = 37;
    public const int NoEntry = 44;
    public const int NoSpace = 51;
    public const int NotSupported = 52;
    public const int NotDirectory = 54;
    public const int NotEmpty = 55;
    public const int ReadOnlyFileSystem = 69;
    public const int InvalidSeek = 70;
    public const int CrossDevice = 75;
    public const int NotCapable = 76;

    /// <summary>
    /// The errno for the host's file system failing on the guest's behalf (a missing entry, a refused access, any other I/O
    /// error): the guest's error, never a sandbox error. Null for anything else, which is a bug of ours and must escape.
    /// </summary>
    public static int? FromHost(Exception exception) => exception switch
    {
        FileNotFoundException or DirectoryNotFoundException => NoEntry,
        UnauthorizedAccessException => Access,
        IOException => IO,
        _ => null,
    };
}
