using System.Security.Cryptography;

namespace Sandbox.Docker.Artifacts;

/// <summary>
/// The small step after the program that hands <c>/tmp/outputs</c> back to the host, wrapped around the run step's
/// command (as the compile step wraps the compiler), so the images need no change.
/// </summary>
/// <remarks>
/// Why a stream and not a copy: <c>/tmp</c> is a tmpfs inside the container, which the archive API (<c>docker cp</c>) does
/// not see, and it is gone once the container stops; an exec would need the container kept alive past the program's end,
/// which the end detection (daemon wait, cgroup emptied) and the warm pool do not allow. So after the program exits, the
/// same shell writes a marker line and a GNU tar of the folder to stdout, and the host splits it off the program's output
/// (<see cref="OutputsSplitter"/>) and reads it under the profile's caps (<see cref="TarArtifactReader"/>).
/// <para>
/// The marker carries a random nonce that reaches the shell on stdin ahead of the program's own stdin (and is read before
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
/// </remarks>
internal static class OutputsCommand
{
    /// <summary>The first byte of the marker (ASCII record separator); it occurs nowhere else in the marker.</summary>
    public const byte MarkerStart = 0x1E;

    // 1. read the nonce line the host put after the files; 2. make the folder, so a program can write to it at once;
    // 3. run the program as a child (not exec), keeping its exit status; 4. write the marker, then, only if the folder has
    // anything in it, a tar: GNU format, links archived as links (never followed: -h is not given), hard links written as
    // the file they name, in name order (the caps keep the same files every time), tar's own complaints discarded (stderr
    // is the program's); 5. only if no other process is left in the container (pid 1 is docker-init, $$ this shell), write
    // the end line on stderr: the program's status and whether a tar followed, so the host knows both streams are whole
    // without waiting for the daemon to notice the exit; with a process left, the host waits for the kernel and the daemon
    // as before; 6. exit with the program's status.
    private const string Script =
        "IFS= read -r nonce || exit 125\n" +
        "mkdir -p /tmp/outputs 2>/dev/null\n" +
        "\"$@\"\n" +
        "rc=$?\n" +
        "printf '\\036SANDBOX-OUTPUTS %s\\n' \"$nonce\"\n" +
        "tar=0\n" +
        "for f in /tmp/outputs/* /tmp/outputs/.[!.]* /tmp/outputs/..?*; do\n" +
        "  if [ -e \"$f\" ] || [ -L \"$f\" ]; then\n" +
        "    tar -C /tmp/outputs --format=gnu --hard-dereference --sort=name -cf - . 2>/dev/null\n" +
        "    tar=1\n" +
        "    break\n" +
        "  fi\n" +
        "done\n" +
        "for p in /proc/[0-9]*; do\n" +
        "  case \"${p#/proc/}\" in 1 | \"$$\") ;; *) exit $rc ;; esac\n" +
        "done\n" +
        "printf '\\036SANDBOX-END %s %s %s\\n' \"$nonce\" \"$rc\" \"$tar\" >&2\n" +
        "exit $rc\n";

    /// <summary>The run step's argv: the wrapper, then the profile's command as its arguments (never spliced into the script).</summary>
    public static IReadOnlyList<string> Wrap(IReadOnlyList<string> command) => ["/bin/sh", "-c", Script, "sh", .. command];

    /// <summary>A fresh nonce: 128 random bits as hex.</summary>
    public static string NewNonce() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The line written to the step's stdin after the files and before the program's stdin.</summary>
    public static byte[] NonceLine(string nonce) => System.Text.Encoding.ASCII.GetBytes(nonce + "\n");

    /// <summary>The marker the wrapper writes before the tar.</summary>
    public static byte[] Marker(string nonce) => [.. MarkerPrefix, .. System.Text.Encoding.ASCII.GetBytes(nonce + "\n")];

    /// <summary>The marker's fixed part, for start-up recovery, which no longer knows the run's nonce.</summary>
    public static byte[] MarkerPrefix => "\u001ESANDBOX-OUTPUTS "u8.ToArray();

    /// <summary>The start of the end line the wrapper writes last on stderr; the program's status and the tar flag follow.</summary>
    public static byte[] EndMarker(string nonce) => [.. EndMarkerPrefix, .. System.Text.Encoding.ASCII.GetBytes(nonce + " ")];

    /// <summary>The end line's fixed part, for start-up recovery, which strips it from stderr without the nonce.</summary>
    public static byte[] EndMarkerPrefix => "\u001ESANDBOX-END "u8.ToArray();
}
