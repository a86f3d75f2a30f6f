namespace Sandbox.Docker.IntegrationTests.Support;

/// <summary>Finds files of the source checkout (profiles, self-tests, fixtures) from the test's output folder.</summary>
internal static class RepositoryPaths
{
    public static string Root => Sandbox.Testing.RepositoryRoot.Path;

    public static string Images => Path.Join(Root, "images");

    public static string Fixtures => Path.Join(Root, "tests", "Sandbox.Docker.IntegrationTests", "Fixtures");
}
