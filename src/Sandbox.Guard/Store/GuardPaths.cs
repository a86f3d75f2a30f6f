namespace Sandbox.Guard.Store;

/// <summary>Where the guard's store lives, by one rule for every front end (the service, <c>sandbox mcp</c> and the operator's CLI).</summary>
public static class GuardPaths
{
    public const string DataDirectoryVariable = "SANDBOX_DATA";

    public const string DatabaseFileName = "sandbox.db";

    /// <summary>The data folder: the one given, else <c>$SANDBOX_DATA</c>, else <c>data</c> in the current folder.</summary>
    public static string ResolveDataDirectory(string? explicitDirectory) =>
        !string.IsNullOrEmpty(explicitDirectory) ? explicitDirectory
        : Environment.GetEnvironmentVariable(DataDirectoryVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
        : "data";

    public static string Database(string dataDirectory) => Path.GetFullPath(Path.Join(dataDirectory, DatabaseFileName));
}
