using System.Diagnostics;

namespace Sandbox.Wasm.Tests.Differential;

/// <summary>
/// The reference engine: Node 20's V8 through <c>node:wasi</c> (preview1), driven by the checked-in
/// run-wasi.mjs. Arguments go through <see cref="ProcessStartInfo.ArgumentList"/>, never a shell.
/// </summary>
internal static class NodeWasi
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    public static string RunnerPath => Path.Combine(AppContext.BaseDirectory, "Differential", "run-wasi.mjs");

    /// <summary>The <c>node</c> executable on PATH, or null.</summary>
    public static string? FindNode()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "node");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public static async Task<GuestRun> RunAsync(string node, GuestInput input, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(node)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The ExperimentalWarning node prints for node:wasi would otherwise land in the guest's stderr.
        start.ArgumentList.Add("--no-warnings");
        start.ArgumentList.Add(RunnerPath);
        foreach (var (guestPath, hostPath) in input.Preopens)
        {
            start.ArgumentList.Add("--dir");
            start.ArgumentList.Add($"{guestPath}={hostPath}");
        }

        start.ArgumentList.Add(input.WasmPath);
        foreach (var arg in input.Args)
        {
            start.ArgumentList.Add(arg);
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_timeout);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.StandardInput.BaseStream.WriteAsync(input.Stdin, timeout.Token);
            process.StandardInput.Close();
            await process.WaitForExitAsync(timeout.Token);
            return new GuestRun(await stdout, await stderr, process.ExitCode, stopwatch.Elapsed);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }
}
