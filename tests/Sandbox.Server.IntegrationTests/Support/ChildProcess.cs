using System.Diagnostics;

namespace Sandbox.Server.IntegrationTests.Support;

/// <summary>A command run to completion, as a user runs it: its exit code and what it printed, killed if it overstays.</summary>
internal static class ChildProcess
{
    /// <summary>The command line and everything it printed, for assertion messages.</summary>
    public sealed record Outcome(int Exit, string CommandLine, string Stdout, string Stderr)
    {
        public override string ToString() => $"{CommandLine}\n{Stdout}\n{Stderr}";
    }

    /// <summary>Runs <paramref name="fileName"/>; <paramref name="environment"/> adds variables, and an empty value removes one.</summary>
    public static async Task<Outcome> RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            if (value.Length == 0)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var commandLine = $"{Path.GetFileName(fileName)} {string.Join(' ', start.ArgumentList)}";
        var token = TestContext.Current.CancellationToken;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + fileName);
        var stdout = process.StandardOutput.ReadToEndAsync(token);
        var stderr = process.StandardError.ReadToEndAsync(token);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(token);
        limit.CancelAfter(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{commandLine} did not finish in time");
        }

        return new Outcome(process.ExitCode, commandLine, await stdout, await stderr);
    }
}
