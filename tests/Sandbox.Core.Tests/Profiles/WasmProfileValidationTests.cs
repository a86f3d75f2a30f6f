using Sandbox.Core.Profiles;

namespace Sandbox.Core.Tests.Profiles;

public sealed class WasmProfileValidationTests
{
    private const string Limits = """
        "limits": { "wallTimeMs": 10000, "cpuTimeMs": 5000, "memoryBytes": 268435456, "pids": 1,
                    "stdoutBytes": 1048576, "stderrBytes": 1048576, "fileSizeBytes": 1048576, "tmpBytes": 67108864 }
        """;

    private static string Document(string name, string fields) =>
        $$"""{ "profiles": { "{{name}}": { {{fields}}, "backend": "wasm", "sourceFile": "main.wasm", {{Limits}} } } }""";

    [Fact]
    public void Parse_WasmLanguageWithoutImageOrCommand_IsValid()
    {
        var set = ProfileLoader.Parse(Document("wasm", "\"language\": \"wasm\""), "test.json");

        set.TryGet("wasm", out var profile).ShouldBeTrue();
        profile.Backend.ShouldBe(BackendNames.Wasm);
        profile.Preopens.ShouldBeEmpty();
    }

    [Fact]
    public void Parse_WasmProfileWithPrestart_IsAnErrorOnPrestart()
    {
        var ex = Should.Throw<ProfileConfigurationException>(() =>
            ProfileLoader.Parse(Document("wasm", "\"language\": \"wasm\", \"prestart\": [\"python3\"]"), "test.json"));

        ex.Errors.ShouldHaveSingleItem().Field.ShouldBe("profiles.wasm.prestart");
    }

    [Fact]
    public void Parse_WasmProfileWithoutModule_IsAnErrorOnModule()
    {
        var ex = Should.Throw<ProfileConfigurationException>(() => ProfileLoader.Parse(Document("python-wasm", "\"language\": \"python\""), "test.json"));

        ex.Errors.ShouldHaveSingleItem().Field.ShouldBe("profiles.python-wasm.module");
    }

    [Theory]
    [InlineData("usr/local", "lib")]
    [InlineData("/tmp", "lib")]
    [InlineData("/usr/../etc", "lib")]
    [InlineData("/usr/local", "/etc")]
    [InlineData("/usr/local", "../outside")]
    public void Parse_BadPreopen_IsAnErrorOnThatPreopen(string guest, string host)
    {
        var fields = $$"""
            "language": "python", "module": "python.wasm", "preopens": { "{{guest}}": "{{host}}" }
            """;

        var ex = Should.Throw<ProfileConfigurationException>(() => ProfileLoader.Parse(Document("python-wasm", fields), "test.json"));

        ex.Errors.ShouldContain(e => e.Field == $"profiles.python-wasm.preopens.{guest}");
    }

    [Fact]
    public void Load_ModuleAndPreopenNotBuiltYet_LoadAndResolveRelativeToTheFile()
    {
        var dir = Directory.CreateTempSubdirectory("profiles-");
        try
        {
            var fields = """ "language": "python", "module": "build/python.wasm", "preopens": { "/usr/local": "usr-local" } """;
            File.WriteAllText(Path.Join(dir.FullName, "p.json"), Document("python-wasm", fields));

            // A guest that is not built yet must not stop the other profiles from loading; its runs fail closed instead.
            var set = ProfileLoader.Load(dir.FullName);

            set.TryGet("python-wasm", out var profile).ShouldBeTrue();
            profile.ResolvePath(profile.Module!).ShouldBe(Path.Join(dir.FullName, "build", "python.wasm"));
            profile.ResolvePath(profile.Preopens["/usr/local"]).ShouldBe(Path.Join(dir.FullName, "usr-local"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
