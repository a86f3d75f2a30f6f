namespace Sandbox.Wasm.Tests.Conformance;

/// <summary>Finds the shared spec test data: <c>../shared/wasm-spec</c> beside the checkout (also true in CI).</summary>
internal static class SpecTestLocator
{
    public static string? FindRoot()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("WASM_SPEC_DIR");
        if (!string.IsNullOrEmpty(fromEnvironment) && Directory.Exists(fromEnvironment))
        {
            return fromEnvironment;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "wasm-spec");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Every command file, as the folder name (one folder per .wast).</summary>
    public static IReadOnlyList<string> Files()
    {
        var root = FindRoot();
        if (root is null)
        {
            return [];
        }

        return Directory.GetDirectories(root)
            .Select(Path.GetFileName)
            .Where(name => name is not null && File.Exists(Path.Combine(root, name, name + ".json")))
            .Select(name => name!)
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
