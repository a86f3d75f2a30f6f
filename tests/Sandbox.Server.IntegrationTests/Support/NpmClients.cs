using System.Diagnostics;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Support;

/// <summary>
/// The third-party npm clients of eng/npm (installed from its lockfile by eng/npm-install.sh, which eng/test.sh runs):
/// where they are, and running one of their tools to completion. Missing packages fail the test, never skip it.
/// </summary>
internal static class NpmClients
{
    /// <summary>eng/npm: package.json, the tsconfigs, the TypeScript tests and their generated inputs.</summary>
    public static string Folder { get; } = Path.Join(RepositoryRoot.Path, "eng", "npm");

    /// <summary>A tool of node_modules/.bin, such as <c>tsc</c>; fails the test when the packages are not installed.</summary>
    public static string Bin(string name)
    {
        var path = Path.Join(Folder, "node_modules", ".bin", name);
        File.Exists(path).ShouldBeTrue($"{name} is not installed in eng/npm: run `bash eng/npm-install.sh` (eng/test.sh does)");
        return path;
    }

    /// <summary>Runs <paramref name="fileName"/> in eng/npm and fails the test with everything it printed unless it exits 0.</summary>
    public static async Task RunAsync(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var (exit, output) = await ExitCodeAsync(fileName, arguments, environment, timeout);
        exit.ShouldBe(0, output);
    }

    /// <summary>Runs <paramref name="fileName"/> in eng/npm; returns its exit code and the command line with everything it printed.</summary>
    public static async Task<(int Exit, string Output)> ExitCodeAsync(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Folder };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

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
            throw new TimeoutException($"{Path.GetFileName(fileName)} {string.Join(' ', start.ArgumentList)} did not finish in time");
        }

        return (process.ExitCode, $"{Path.GetFileName(fileName)} {string.Join(' ', start.ArgumentList)}\n{await stdout}\n{await stderr}");
    }
}
