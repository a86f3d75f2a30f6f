using System.Security.Cryptography;

namespace Sandbox.Docker.Artifacts;

/// <summary>
/// The small step after the program that hands <c>/tmp/outputs</c> back to the host, done by the image's
/// <c>sandbox-entry</c> around the run step's command (<c>--outputs</c>), and the entry's other option, <c>--prestart</c>.
/// </summary>
/// <remarks>
/// Why a stream and not a copy: <c>/tmp</c> is a tmpfs inside the container, which the archive API (<c>docker cp</c>) does
/// not see, and it is gone once the container stops; an exec would need the container kept alive past the program's end,
/// which the end detection (daemon wait, cgroup emptied) and the warm pool do not allow. So after the program exits, the
/// entry writes a marker line and a GNU tar of the folder to stdout, and the host splits it off the program's output
/// (<see cref="OutputsSplitter"/>) and reads it under the profile's caps (<see cref="TarArtifactReader"/>).
/// <para>
/// The marker carries a random nonce that reaches the entry on stdin ahead of the program's own stdin (and is read before
/// the program starts), so a program that merely prints an untrusted file cannot cut its own stdout short. A program set
/// on forging the stream gains nothing: it can only fake files it could have written there itself, and the host treats
/// everything after the marker as untrusted (names checked, links dropped, caps held, types sniffed).
/// </para>
/// <para>
/// Last, on stderr, comes an end line with the same nonce: the program's status and whether a tar followed. With it the
/// host knows both streams are whole as soon as it arrives and the kernel sees the cgroup empty, instead of waiting for the
/// daemon to notice the exit and close the attach (20–40 ms on two cores). It is written only when no other process is
/// left in the container, so nothing can write after it; otherwise the run ends the way it did before.
/// </para>
/// <para>
/// The entry (<c>images/base/sandbox-entry.c</c>): 1. writes the files; 2. reads the nonce line the host put after them;
/// 3. makes the folder, so a program can write to it at once; 4. runs the program as its child (not exec), keeping its exit
/// status; 5. writes the marker, then, only if the folder has anything in it, a tar: GNU format, links archived as links
/// (never followed), hard links written as the file they name, in name order (the caps keep the same files every time),
/// tar's own complaints discarded (stderr is the program's); 6. only if no other process is left in the container (pid 1 is
/// docker-init), writes the end line on stderr; 7. exits with the program's status. With a profile's <c>prestart</c>
/// command the program was started at step 0, before the files, and step 4 hands it over with one byte on descriptor 3.
/// </para>
/// </remarks>
internal static class OutputsCommand
{
    /// <summary>The first byte of the marker (ASCII record separator); it occurs nowhere else in the marker.</summary>
    public const byte MarkerStart = 0x1E;

    /// <summary>
    /// The run step's argv for <c>sandbox-entry</c>: its options, then the program's command (the profile's
    /// <c>prestart</c> when it has one); a bare command when neither option applies, as the compile step gets.
    /// </summary>
    public static IReadOnlyList<string> RunCommand(IReadOnlyList<string> command, IReadOnlyList<string>? prestart, bool outputs) =>
        (outputs, prestart) switch
        {
            (false, null) => command,
            (true, null) => ["--outputs", "--", .. command],
            (false, { } started) => ["--prestart", "--", .. started],
            (true, { } started) => ["--outputs", "--prestart", "--", .. started],
        };

    /// <summary>A fresh nonce: 128 random bits as hex.</summary>
    public static string NewNonce() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The line written to the step's stdin after the files and before the program's stdin.</summary>
    public static byte[] NonceLine(string nonce) => System.Text.Encoding.ASCII.GetBytes(nonce + "\n");

    /// <summary>The marker the entry writes before the tar.</summary>
    public static byte[] Marker(string nonce) => [.. MarkerPrefix, .. System.Text.Encoding.ASCII.GetBytes(nonce + "\n")];

    /// <summary>The marker's fixed part, for start-up recovery, which no longer knows the run's nonce.</summary>
    public static byte[] MarkerPrefix => "\u001ESANDBOX-OUTPUTS "u8.ToArray();

    /// <summary>The start of the end line the entry writes last on stderr; the program's status and the tar flag follow.</summary>
    public static byte[] EndMarker(string nonce) => [.. EndMarkerPrefix, .. System.Text.Encoding.ASCII.GetBytes(nonce + " ")];

    /// <summary>The end line's fixed part, for start-up recovery, which strips it from stderr without the nonce.</summary>
    public static byte[] EndMarkerPrefix => "\u001ESANDBOX-END "u8.ToArray();
}
