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
        var outcome = await ChildProcess.RunAsync(fileName, arguments, Folder, environment, timeout);
        outcome.Exit.ShouldBe(0, outcome.ToString());
    }

    /// <summary>Runs <paramref name="fileName"/> in eng/npm; returns its exit code and the command line with everything it printed.</summary>
    public static async Task<(int Exit, string Output)> ExitCodeAsync(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var outcome = await ChildProcess.RunAsync(fileName, arguments, Folder, environment, timeout);
        return (outcome.Exit, outcome.ToString());
    }
}
