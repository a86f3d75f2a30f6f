using Sandbox.Core.Profiles;

namespace Sandbox.Core.Tests.Profiles;

public sealed class ProfileLoaderTests
{
    private const string Valid = """
        {
          // operators may comment
          "profiles": {
            "python": {
              "language": "python",
              "image": "sandbox/python:latest",
              "command": ["python3", "main.py"],
              "sourceFile": "main.py",
              "limits": { "wallTimeMs": 10000, "cpuTimeMs": 5000, "memoryBytes": 268435456, "pids": 64,
                          "stdoutBytes": 1048576, "stderrBytes": 1048576, "fileSizeBytes": 1048576, "tmpBytes": 67108864 }
            }
          }
        }
        """;

    [Fact]
    public void Parse_ValidDocument_BuildsTheSetWithNamesFromKeys()
    {
        var set = ProfileLoader.Parse(Valid, "test.json");

        set.TryGet("python", out var profile).ShouldBeTrue();
        profile.Name.ShouldBe("python");
        profile.Runtime.ShouldBe(RuntimeNames.Runc);
        set.Languages.ShouldBe(["python"]);
    }

    [Fact]
    public void Parse_SeveralBadFields_ReportsEveryErrorWithItsPath()
    {
        var json = Valid
            .Replace("\"pids\": 64", "\"pids\": 0", StringComparison.Ordinal)
            .Replace("\"memoryBytes\": 268435456", "\"memoryBytes\": 1", StringComparison.Ordinal)
            .Replace("\"command\": [\"python3\", \"main.py\"]", "\"command\": [], \"runtime\": \"kata\"", StringComparison.Ordinal);

        var ex = Should.Throw<ProfileConfigurationException>(() => ProfileLoader.Parse(json, "test.json"));

        ex.Errors.Select(e => e.Field).ShouldBe(
            ["profiles.python.runtime", "profiles.python.command", "profiles.python.limits.memoryBytes", "profiles.python.limits.pids"],
            ignoreOrder: true);
        ex.Message.ShouldContain("4 errors");
    }

    [Fact]
    public void Parse_ArtifactsAbsentOrPartial_KeepsTheDefaultsOfWhatIsLeftOut()
    {
        ProfileLoader.Parse(Valid, "test.json").TryGet("python", out var absent).ShouldBeTrue();
        var json = Valid.Replace("\"language\"", "\"artifacts\": { \"maxFiles\": 0 }, \"language\"", StringComparison.Ordinal);

        ProfileLoader.Parse(json, "test.json").TryGet("python", out var partial).ShouldBeTrue();

        absent.Artifacts.ShouldBe(Sandbox.Core.Limits.ArtifactLimits.Default);
        partial.Artifacts.ShouldBe(Sandbox.Core.Limits.ArtifactLimits.Default with { MaxFiles = 0 });
    }

    [Fact]
    public void Parse_ArtifactCapOutOfRange_NamesTheField()
    {
        var json = Valid.Replace("\"language\"", "\"artifacts\": { \"maxTotalBytes\": 0, \"maxFiles\": -1 }, \"language\"", StringComparison.Ordinal);

        var ex = Should.Throw<ProfileConfigurationException>(() => ProfileLoader.Parse(json, "test.json"));

        ex.Errors.Select(e => e.Field).ShouldBe(["profiles.python.artifacts.maxFiles", "profiles.python.artifacts.maxTotalBytes"], ignoreOrder: true);
    }

    [Theory]
    [InlineData("runc")]
    [InlineData("crun")]
    [InlineData("runsc")]
    public void Parse_KnownContainerRuntime_IsTheProfilesRuntime(string runtime)
    {
        var json = Valid.Replace("\"language\"", $"\"runtime\": \"{runtime}\", \"language\"", StringComparison.Ordinal);

        ProfileLoader.Parse(json, "test.json").TryGet("python", out var profile).ShouldBeTrue();

        profile.Runtime.ShouldBe(runtime);
    }

    [Fact]
    public void Parse_Prestart_IsTheProfilesPrestartCommand()
    {
        var json = Valid.Replace("\"language\"", "\"prestart\": [\"python3\", \"-c\", \"import sandbox_prestart\", \"main.py\"], \"language\"", StringComparison.Ordinal);

        ProfileLoader.Parse(json, "test.json").TryGet("python", out var profile).ShouldBeTrue();

        profile.Prestart.ShouldBe(["python3", "-c", "import sandbox_prestart", "main.py"]);
    }

    [Theory]
    [InlineData("\"prestart\": [], ", "profiles.python.prestart")]
    [InlineData("\"prestart\": [\"--outputs\", \"python3\"], ", "profiles.python.prestart")]
    [InlineData("\"command\": [\"--prestart\", \"python3\"], ", "profiles.python.command")]
    public void Parse_PrestartOrCommandTheEntryWouldMisread_NamesTheField(string field, string path)
    {
        var json = Valid.Replace("\"command\": [\"python3\", \"main.py\"],", "", StringComparison.Ordinal)
            .Replace("\"language\"", field + (field.Contains("command", StringComparison.Ordinal) ? "" : "\"command\": [\"python3\", \"main.py\"], ") + "\"language\"", StringComparison.Ordinal);

        var ex = Should.Throw<ProfileConfigurationException>(() => ProfileLoader.Parse(json, "test.json"));

        ex.Errors.ShouldHaveSingleItem().Field.ShouldBe(path);
    }

    [Theory]
    [InlineData("Crun")]
    [InlineData("crun ")]
    [InlineData("youki")]
    public void Parse_UnknownRuntime_FailsNamingTheFieldAndTheKnownOnes(string runtime)
    {
        var json = Valid.Replace("\"language\"", $"\"runtime\": \"{runtime}\", \"language\"", StringComparison.Ordinal);

        var ex = Should.Throw<ProfileConfigurationException>(() => ProfileLoader.Parse(json, "test.json"));

        var error = ex.Errors.ShouldHaveSingleItem();
        error.Field.ShouldBe("profiles.python.runtime");
        error.Message.ShouldContain("'runc', 'crun' or 'runsc'");
    }

    [Fact]
    public void Parse_UnknownField_IsAnErrorSoTyposSurface()
    {
        var json = Valid.Replace("\"language\"", "\"memoryLimit\": 5, \"language\"", StringComparison.Ordinal);

        var ex = Should.Throw<ProfileConfigurationException>(() => ProfileLoader.Parse(json, "test.json"));

        ex.Errors.ShouldHaveSingleItem().Field.ShouldStartWith("test.json: profiles.python");
    }

    [Fact]
    public void Parse_MissingRequiredLimits_IsAnError()
    {
        var json = """{ "profiles": { "python": { "language": "python", "image": "i", "command": ["x"], "sourceFile": "main.py" } } }""";

        var ex = Should.Throw<ProfileConfigurationException>(() => ProfileLoader.Parse(json, "test.json"));

        ex.Errors.ShouldHaveSingleItem().Message.ShouldContain("limits");
    }

    [Fact]
    public void Load_Folder_MergesFilesAndRejectsDuplicateNames()
    {
        var dir = Directory.CreateTempSubdirectory("profiles-");
        try
        {
            File.WriteAllText(Path.Join(dir.FullName, "a.json"), Valid);
            File.WriteAllText(Path.Join(dir.FullName, "b.json"), Valid);

            var ex = Should.Throw<ProfileConfigurationException>(() => ProfileLoader.Load(dir.FullName));

            ex.Errors.ShouldHaveSingleItem().Message.ShouldContain("a.json and b.json");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Load_PackageListBesideTheFile_AppliesToProfilesOfItsImageOnly()
    {
        var dir = Directory.CreateTempSubdirectory("profiles-");
        try
        {
            var other = Valid.Replace("\"python\": {", "\"python-other\": {", StringComparison.Ordinal)
                .Replace("sandbox/python:latest", "sandbox/other:latest", StringComparison.Ordinal);
            File.WriteAllText(Path.Join(dir.FullName, "profile.json"), Valid);
            File.WriteAllText(Path.Join(dir.FullName, "other.json"), other);
            Directory.CreateDirectory(Path.Join(dir.FullName, "build"));
            File.WriteAllText(Path.Join(dir.FullName, InstalledPackages.RelativePath), """
                {"image": "sandbox/python:latest", "packages": [{"name": "pandas", "version": "1.5.3"}, {"name": "numpy", "version": "1.24.2"}]}
                """);

            var set = ProfileLoader.Load(dir.FullName);

            set.TryGet("python", out var python).ShouldBeTrue();
            python.Packages.ShouldNotBeNull().Select(p => p.Name).ShouldBe(["numpy", "pandas"]);
            set.TryGet("python-other", out var unrelated).ShouldBeTrue();
            unrelated.Packages.ShouldBeNull();
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Load_BrokenPackageList_IsAnErrorNamingTheFile()
    {
        var dir = Directory.CreateTempSubdirectory("profiles-");
        try
        {
            File.WriteAllText(Path.Join(dir.FullName, "profile.json"), Valid);
            Directory.CreateDirectory(Path.Join(dir.FullName, "build"));
            File.WriteAllText(Path.Join(dir.FullName, InstalledPackages.RelativePath), """{"image": "sandbox/python:latest", "packages": [{"name": ""}]}""");

            var ex = Should.Throw<ProfileConfigurationException>(() => ProfileLoader.Load(dir.FullName));

            ex.Errors.ShouldHaveSingleItem().Field.ShouldEndWith("packages.json");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Load_MissingPath_IsAnErrorNamingThePath()
    {
        var ex = Should.Throw<ProfileConfigurationException>(() => ProfileLoader.Load("/nonexistent/profiles.json"));

        ex.Errors.ShouldHaveSingleItem().Field.ShouldBe("/nonexistent/profiles.json");
    }

    [Fact]
    public void Load_RepositoryDefaults_AreValid()
    {
        var set = ProfileLoader.LoadTree(Path.Join(Sandbox.Testing.RepositoryRoot.Path, "images"), "profile.json");

        set.Languages.ShouldBe(["bash", "c", "csharp", "javascript", "python", "wasm"], ignoreOrder: true);
    }
}
