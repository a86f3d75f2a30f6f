using Sandbox.Cli.Commands;
using Sandbox.Cli.Hosting;

namespace Sandbox.Cli.Tests.Commands;

/// <summary>
/// The CLI in-process, with its console captured. Console redirection is process-wide, so these tests
/// share one collection and never run in parallel with each other.
/// </summary>
[Collection(nameof(ConsoleUsers))]
public sealed class CommandTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("cli-");

    private const string ValidProfile = """
        { "profiles": { "python": { "language": "python", "image": "sandbox/python:latest", "command": ["python3", "main.py"],
          "sourceFile": "main.py", "limits": { "wallTimeMs": 10000, "cpuTimeMs": 5000, "memoryBytes": 268435456, "pids": 64,
          "stdoutBytes": 1048576, "stderrBytes": 1048576, "fileSizeBytes": 1048576, "tmpBytes": 67108864 } } } }
        """;

    [Fact]
    public async Task ProfilesValidate_BadFile_ListsEveryErrorAndExits78()
    {
        var file = Write("bad.json", ValidProfile.Replace("\"pids\": 64", "\"pids\": 0", StringComparison.Ordinal).Replace("\"runtime\"", "\"x\"", StringComparison.Ordinal)
            .Replace("\"command\": [\"python3\", \"main.py\"]", "\"command\": []", StringComparison.Ordinal));

        var (code, _, stderr) = await RunAsync("profiles", "validate", file);

        code.ShouldBe(CommandSupport.BadProfiles);
        stderr.ShouldContain("profiles.python.limits.pids");
        stderr.ShouldContain("profiles.python.command");
    }

    [Fact]
    public async Task ProfilesValidate_GoodFile_SaysOk()
    {
        var (code, stdout, _) = await RunAsync("profiles", "validate", Write("good.json", ValidProfile));

        code.ShouldBe(0);
        stdout.ShouldContain("ok: 1 profile(s) for python");
    }

    [Fact]
    public async Task ProfilesList_ShowsEachProfile()
    {
        var (code, stdout, _) = await RunAsync("profiles", "list", "--profiles", Write("good.json", ValidProfile));

        code.ShouldBe(0);
        stdout.ShouldContain("python");
        stdout.ShouldContain("sandbox/python:latest");
    }

    [Fact]
    public async Task Run_UnknownLanguage_IsRejectedWithExit206AndNamesTheField()
    {
        var source = Write("x.py", "print(1)");

        var (code, _, stderr) = await RunAsync("run", "--lang", "cobol", "--profiles", Write("good.json", ValidProfile), source);

        code.ShouldBe(CliExitCodes.Rejected);
        stderr.ShouldContain("language: unknown language 'cobol'");
    }

    [Fact]
    public async Task Run_UnknownRuntime_IsAUsageError()
    {
        var (code, _, stderr) = await RunAsync("run", "--lang", "python", "--runtime", "kata", Write("x.py", "print(1)"));

        code.ShouldBe(CliExitCodes.UsageError);
        stderr.ShouldContain("kata");
    }

    [Fact]
    public async Task Run_MissingLanguage_IsAUsageError()
    {
        var (code, _, _) = await RunAsync("run", Write("x.py", "print(1)"));

        code.ShouldBe(CliExitCodes.UsageError);
    }

    [Fact]
    public async Task Run_BackendWasmLangWasm_RunsTheHelloModuleInProcess()
    {
        var profiles = Path.Join(Sandbox.Testing.RepositoryRoot.Path, "images", "wasm", "profile.json");
        var module = Path.Join(AppContext.BaseDirectory, "Fixtures", "hello.wasm");

        var (code, stdout, _) = await RunAsync("run", "--backend", "wasm", "--lang", "wasm", "--json", "--profiles", profiles, module);

        code.ShouldBe(0);
        using var result = System.Text.Json.JsonDocument.Parse(stdout);
        result.RootElement.GetProperty("status").GetString().ShouldBe("ok");
        result.RootElement.GetProperty("stdout").GetString().ShouldBe("hello from wasm\n");
        result.RootElement.GetProperty("backend").GetString().ShouldBe("wasm");
        result.RootElement.GetProperty("profile").GetString().ShouldBe("wasm");
    }

    [Fact]
    public async Task Run_BackendWasmWithoutAWasmProfile_IsRejectedNamingTheMissingProfile()
    {
        var (code, _, stderr) = await RunAsync("run", "--backend", "wasm", "--lang", "python", "--profiles", Write("good.json", ValidProfile), Write("x.py", "print(1)"));

        code.ShouldBe(CliExitCodes.Rejected);
        stderr.ShouldContain("python-wasm");
    }

    [Fact]
    public async Task Run_DockerUnreachable_FallsBackToTheLanguagesWasmProfileWithANote()
    {
        // A python-wasm profile whose "interpreter" is the hello module: enough to see which backend ran.
        File.Copy(Path.Join(AppContext.BaseDirectory, "Fixtures", "hello.wasm"), Path.Join(_dir.FullName, "hello.wasm"));
        var profiles = Write("profiles.json", ValidProfile.Replace("} } } }", """
            } },
              "python-wasm": { "language": "python", "backend": "wasm", "module": "hello.wasm", "sourceFile": "main.py",
                "limits": { "wallTimeMs": 10000, "cpuTimeMs": 5000, "memoryBytes": 268435456, "pids": 1,
                            "stdoutBytes": 1048576, "stderrBytes": 1048576, "fileSizeBytes": 1048576, "tmpBytes": 67108864 } } } }
            """, StringComparison.Ordinal));
        var previous = Environment.GetEnvironmentVariable("DOCKER_HOST");
        Environment.SetEnvironmentVariable("DOCKER_HOST", "unix://" + Path.Join(_dir.FullName, "no-docker.sock"));
        try
        {
            var (code, stdout, stderr) = await RunAsync("run", "--lang", "python", "--json", "--profiles", profiles, Write("x.py", "print(1)"));

            code.ShouldBe(0, stderr);
            stderr.ShouldContain("Docker is unreachable");
            using var result = System.Text.Json.JsonDocument.Parse(stdout);
            result.RootElement.GetProperty("profile").GetString().ShouldBe("python-wasm");
            result.RootElement.GetProperty("stdout").GetString().ShouldBe("hello from wasm\n");
        }
        finally
        {
            Environment.SetEnvironmentVariable("DOCKER_HOST", previous);
        }
    }

    private string Write(string name, string content)
    {
        var path = Path.Join(_dir.FullName, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            var code = await SandboxCli.RunAsync(args);
            return (code, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    public void Dispose() => _dir.Delete(recursive: true);
}

[CollectionDefinition(nameof(ConsoleUsers), DisableParallelization = true)]
public sealed class ConsoleUsers;
