namespace Sandbox.Testing;

/// <summary>
/// The source checkout (the folder holding Sandbox.sln), found upwards from the test binary. Compiled into
/// every test project from tests/Directory.Build.props, so fixtures, profiles and images are found one way.
/// </summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Join(dir.FullName, "Sandbox.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find the repository root (Sandbox.sln) above " + AppContext.BaseDirectory);
    }
}
