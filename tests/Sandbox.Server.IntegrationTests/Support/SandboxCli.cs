using System.Diagnostics;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Support;

/// <summary>One real <c>sandbox</c> command as a process, with the repository's profiles: its exit code and output.</summary>
internal static class SandboxCli
{
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(IEnumerable<string> args, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (fileName, prefix) = Mcp.McpProcess.SandboxExecutable();
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in prefix.Concat(args).Concat(["--profiles", Path.Join(RepositoryRoot.Path, "images")]))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        await process.WaitForExitAsync(bounded.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
