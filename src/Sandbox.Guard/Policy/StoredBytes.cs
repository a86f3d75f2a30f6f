using System.Text;
using Sandbox.Core.Runs;

namespace Sandbox.Guard.Policy;

/// <summary>
/// What a run adds to the store, as charged to its agent's <see cref="Agents.Agent.DailyStoredMb"/>: the request's code,
/// stdin and files at admission (the audit log keeps them for good, the run's inputs for the retention), and the result's
/// stdout, stderr and artifacts at its end. Names, paths and the records' own fields are small and bounded, so not counted.
/// </summary>
public static class StoredBytes
{
    public static long OfRequest(RunRequest request)
    {
        long bytes = Encoding.UTF8.GetByteCount(request.Code);
        if (request.Stdin is { } stdin)
        {
            bytes += Encoding.UTF8.GetByteCount(stdin);
        }

        foreach (var file in request.Files ?? [])
        {
            bytes += Encoding.UTF8.GetByteCount(file.Content);
        }

        return bytes;
    }

    public static long OfResult(RunResult result)
    {
        // The bytes when the backend kept them, else the text the result carries.
        long bytes = result.StdoutBytes.Length > 0 ? result.StdoutBytes.Length : Encoding.UTF8.GetByteCount(result.Stdout);
        bytes += result.StderrBytes.Length > 0 ? result.StderrBytes.Length : Encoding.UTF8.GetByteCount(result.Stderr);
        foreach (var artifact in result.Artifacts ?? [])
        {
            bytes += artifact.SizeBytes;
        }

        return bytes;
    }
}
