namespace Sandbox.Wasm.Tests.Differential;

/// <summary>
/// What a missing prerequisite means: on CI (<c>CI=true</c>) the test fails, because a green run that
/// compared nothing would prove nothing; on a developer machine it is skipped with the fix.
/// </summary>
internal static class GuestRequirement
{
    public static bool IsCi =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The repository root (the folder holding Sandbox.sln), found upwards from the test binary.</summary>
    public static string RepositoryRoot => Sandbox.Testing.RepositoryRoot.Path;

    /// <summary>Node on PATH, or fail/skip.</summary>
    public static string Node() => NodeWasi.FindNode() ?? Missing("node (Node.js 20) is not on PATH; it is the reference engine");

    /// <summary>The CPython guest's output folder (python.wasm and usr-local/), or fail/skip.</summary>
    public static string PythonGuest() => Guest("python-wasm", "python.wasm");

    /// <summary>The QuickJS guest's output folder (qjs.wasm), or fail/skip.</summary>
    public static string JavaScriptGuest() => Guest("javascript-wasm", "qjs.wasm");

    private static string Guest(string name, string file)
    {
        var folder = Path.Combine(RepositoryRoot, "images", name, "build", "out");
        return File.Exists(Path.Combine(folder, file))
            ? folder
            : Missing($"{Path.Combine(folder, file)} is not built; run `make guests`");
    }

    private static string Missing(string problem)
    {
        if (IsCi)
        {
            Assert.Fail($"{problem} (CI=true: differential tests never skip on CI)");
        }

        Assert.Skip($"{problem} (skipped locally; on CI this fails)");
        return "";
    }
}
