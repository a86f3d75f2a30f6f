namespace Sandbox.Docker.IntegrationTests.Support;

/// <summary>Finds files of the source checkout (profiles, self-tests, fixtures) from the test's output folder.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Images => Path.Join(Root, "images");

    public static string Fixtures => Path.Join(Root, "tests", "Sandbox.Docker.IntegrationTests", "Fixtures");

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Join(dir.FullName, "Sandbox.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
    }
}
