using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;

namespace Sandbox.Core.Tests.Support;

/// <summary>Test data with sensible defaults; each test states only what matters to it.</summary>
internal static class Some
{
    public static ResourceLimits Limits() => new()
    {
        WallTimeMs = 10_000,
        CpuTimeMs = 5_000,
        MemoryBytes = 256L * 1024 * 1024,
        Pids = 64,
        StdoutBytes = 1024 * 1024,
        StderrBytes = 1024 * 1024,
        FileSizeBytes = 16L * 1024 * 1024,
        TmpBytes = 64L * 1024 * 1024,
    };

    public static Profile Profile(string language = "python", string runtime = RuntimeNames.Runc) => new()
    {
        Language = language,
        Image = $"sandbox/{language}:latest",
        Command = ["python3", "main.py"],
        SourceFile = "main.py",
        Runtime = runtime,
        Limits = Limits(),
    };

    /// <summary>A wasm-backend profile with a module path (not checked on disk: no profiles file, so no base folder).</summary>
    public static Profile WasmProfile(string language = "python") => new()
    {
        Language = language,
        Backend = BackendNames.Wasm,
        Module = language == "wasm" ? null : $"{language}.wasm",
        SourceFile = "main.py",
        Limits = Limits(),
    };

    public static ProfileSet Profiles(params (string Name, Profile Profile)[] extra)
    {
        var all = new Dictionary<string, Profile> { ["python"] = Profile() };
        foreach (var (name, profile) in extra)
        {
            all[name] = profile;
        }

        return ProfileSet.Create(all);
    }

    public static RunRequest Request(string code = "print(1)", string language = "python") => new() { Language = language, Code = code };
}
