using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Wasm.Backend;
using Sandbox.Wasm.Tests.Differential;

namespace Sandbox.Wasm.Tests.Backend;

/// <summary>
/// The checked-in guest profiles (<c>images/python-wasm</c>, <c>images/javascript-wasm</c>) through the whole
/// pipeline on the Wasm backend, with the guests <c>make guests</c> built: what <c>sandbox run --backend wasm</c> does.
/// </summary>
[Trait("Category", "Integration")]
public sealed class GuestProfileTests
{
    private static RunPipeline Pipeline() => new(
        ProfileLoader.LoadTree(Path.Join(GuestRequirement.RepositoryRoot, "images"), "profile.json"),
        [new WasmBackend(TimeProvider.System, NullLogger<WasmBackend>.Instance)],
        TimeProvider.System,
        NullLogger<RunPipeline>.Instance);

    [Fact]
    public async Task Run_PythonOnItsWasmProfile_PrintsTheAnswerAndUsesOnlyItsTmp()
    {
        GuestRequirement.PythonGuest();

        var result = await Pipeline().RunAsync(
            new RunRequest
            {
                Language = "python",
                Backend = BackendNames.Wasm,
                Code = "import os, sys\nopen('/tmp/x.txt', 'w').write('hi')\nprint(1 + 1, sys.platform, sorted(os.listdir('/tmp')), sys.stdin.read())",
                Stdin = "from stdin",
            },
            TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.Ok, result.Message + "\n" + result.Stderr);
        result.Profile.ShouldBe("python-wasm");
        result.Backend.ShouldBe(BackendNames.Wasm);
        result.Stdout.ShouldBe("2 wasi ['main.py', 'outputs', 'x.txt'] from stdin\n", "/tmp/outputs is made for the artifacts");
    }

    [Fact]
    public async Task Run_PythonReadingTheHost_SeesNothingOfIt()
    {
        GuestRequirement.PythonGuest();

        var result = await Pipeline().RunAsync(
            new RunRequest
            {
                Language = "python",
                Backend = BackendNames.Wasm,
                Code = "import os\nfor p in ('/etc/passwd', '/proc/self/environ', '/usr/local/../../etc/passwd'):\n    try:\n        open(p).read(); print('LEAKED', p)\n    except OSError:\n        pass\nprint(sorted(os.environ))",
            },
            TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.Ok, result.Message + "\n" + result.Stderr);
        result.Stdout.ShouldNotContain("LEAKED");
        result.Stdout.ShouldBe("['HOME', 'LANG', 'PYTHONDONTWRITEBYTECODE', 'PYTHONHOME', 'TMPDIR']\n");
    }

    [Fact]
    public async Task Run_JavaScriptOnItsWasmProfile_PrintsTheAnswer()
    {
        GuestRequirement.JavaScriptGuest();

        var result = await Pipeline().RunAsync(
            new RunRequest { Language = "javascript", Backend = BackendNames.Wasm, Code = "console.log([1, 2, 3].map(x => x * 2).join(','));" },
            TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.Ok, result.Message + "\n" + result.Stderr);
        result.Profile.ShouldBe("javascript-wasm");
        result.Stdout.ShouldBe("2,4,6\n");
    }

    [Theory]
    [InlineData("python", "print('got here')\nwhile True:\n    pass\n")]
    [InlineData("javascript", "console.log('got here');\nwhile (true) {}\n")]
    public async Task Run_GuestPrintsThenSpinsUntilKilled_ReturnsTheLine(string language, string code)
    {
        // CPython buffers stdout into anything but a terminal; without -u in the profile the kill lost the line.
        // Stopped by CPU time (2 s), not by a short wall limit: the guest gets the same CPU to print its line however
        // loaded the machine is (a 3 s, then a 6 s, wall limit ended a cold CPython start at load 30 before it printed).
        if (language == "python") { GuestRequirement.PythonGuest(); } else { GuestRequirement.JavaScriptGuest(); }

        var result = await Pipeline().RunAsync(
            new RunRequest { Language = language, Backend = BackendNames.Wasm, Code = code, Limits = new Sandbox.Core.Limits.LimitOverrides { CpuTimeMs = 2000 } },
            TestContext.Current.CancellationToken);

        result.Status.ShouldBeOneOf([RunStatus.Timeout, RunStatus.CpuLimit], result.Message + "\n" + result.Stderr);
        result.Stdout.ShouldBe("got here\n");
    }

    public static TheoryData<string, RunRequest, string> InputsTheGuestNeverSaw => new()
    {
        // Attack: a file that is also a folder; the in-memory /tmp refused it with .NET text ("(Parameter 'options')").
        { "file-and-folder", PythonWasm() with { Files = [new InputFile { Path = "a", Content = "1" }, new InputFile { Path = "a/b", Content = "2" }] }, "files[1].path" },
        // Attack: a /tmp too small for the program's own file, reported as the files' fault with .NET text.
        { "tiny-tmp", PythonWasm() with { Limits = new Sandbox.Core.Limits.LimitOverrides { TmpBytes = 4 } }, "limits.tmpBytes" },
        // Attack: less memory than python.wasm's 160 initial pages (10 MiB): the guest cannot even be instantiated.
        { "tiny-memory", PythonWasm() with { Limits = new Sandbox.Core.Limits.LimitOverrides { MemoryBytes = 8 * 1024 * 1024 } }, "limits.memoryBytes" },
    };

    [Theory]
    [MemberData(nameof(InputsTheGuestNeverSaw))]
    public async Task Run_PythonWasmInputTheGuestCannotStartWith_IsRejectedNamingTheField(string attack, RunRequest request, string field)
    {
        GuestRequirement.PythonGuest();

        var result = await Pipeline().RunAsync(request, TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.Rejected, attack + ": " + result.Message);
        var error = result.Errors.ShouldNotBeNull().ShouldHaveSingleItem();
        error.Field.ShouldBe(field);
        error.Message.ShouldNotContain("Parameter");
    }

    [Fact]
    public void MinimumsFor_PythonWasm_IsTheGuestsInitialMemory()
    {
        GuestRequirement.PythonGuest();

        var pipeline = Pipeline();
        pipeline.Profiles.TryGet("python-wasm", out var profile).ShouldBeTrue();

        pipeline.MinimumsFor(profile).MemoryBytes.ShouldBe(160L * 65536);
    }

    [Fact]
    public async Task Run_PythonTracebackThroughTheStdlib_NamesOnlyGuestPaths()
    {
        GuestRequirement.PythonGuest();

        var result = await Pipeline().RunAsync(
            PythonWasm() with { Code = "import json\njson.loads('{')" },
            TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.RuntimeError, result.Message);
        result.Stderr.ShouldContain("json.decoder.JSONDecodeError");
        // The stdlib's code objects once named the build machine's checkout (images/python-wasm/build/src/...).
        var files = System.Text.RegularExpressions.Regex.Matches(result.Stderr, "File \"([^\"]*)\"").Select(m => m.Groups[1].Value).ToList();
        files.ShouldContain("/tmp/main.py");
        files.ShouldContain(f => f.StartsWith("/usr/local/lib/python311.zip/json/", StringComparison.Ordinal));
        files.ShouldAllBe(f => f == "/tmp/main.py" || f.StartsWith("/usr/local/", StringComparison.Ordinal));
        result.Stderr.ShouldNotContain("/work/");
        result.Stderr.ShouldNotContain("images/");
    }

    [Fact]
    public void PythonWasmProfile_Command_RunsRunPyVerbatim()
    {
        var images = Path.Join(GuestRequirement.RepositoryRoot, "images");
        ProfileLoader.LoadTree(images, "profile.json").TryGet("python-wasm", out var profile).ShouldBeTrue();

        // The runner is reviewed as images/python-wasm/run.py; the profile must carry exactly that text.
        var command = profile.Command;
        command.Take(7).ShouldBe(["python.wasm", "-u", "-E", "-s", "-B", "-c", File.ReadAllText(Path.Join(images, "python-wasm", "run.py"))]);
        command.Skip(7).ShouldBe(["/tmp/main.py"]);
    }

    [Fact]
    public async Task Run_PythonWasmProgram_RunsAsTheMainScriptWithItsAtexit()
    {
        GuestRequirement.PythonGuest();

        var result = await Pipeline().RunAsync(
            PythonWasm() with
            {
                Code = "import atexit, sys, __main__\natexit.register(print, 'at exit')\n"
                    + "print(__name__, __file__, sys.argv, sys.path[0], __main__.__dict__ is globals(), sorted(k for k in dir() if k.startswith('__')))\n",
            },
            TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.Ok, result.Message + "\n" + result.Stderr);
        result.Stdout.ShouldBe(
            "__main__ /tmp/main.py ['/tmp/main.py'] /tmp True ['__annotations__', '__builtins__', '__cached__', '__doc__', '__file__', '__loader__', '__main__', '__name__', '__package__', '__spec__']\nat exit\n");
    }

    [Theory]
    [InlineData("import sys\nsys.exit(3)", 3, "")]
    [InlineData("import sys\nsys.exit('bye')", 1, "bye\n")]
    [InlineData("raise SystemExit", 0, "")]
    [InlineData("print(", 1, "SyntaxError")]
    public async Task Run_PythonWasmProgramExiting_ReportsCPythonsExitCode(string code, int exitCode, string stderr)
    {
        GuestRequirement.PythonGuest();

        var result = await Pipeline().RunAsync(PythonWasm() with { Code = code }, TestContext.Current.CancellationToken);

        result.ExitCode.ShouldBe(exitCode, result.Message + "\n" + result.Stderr);
        result.Stderr.ShouldContain(stderr);
        result.Stderr.ShouldNotContain("<string>");
    }

    private static RunRequest PythonWasm() => new() { Language = "python", Backend = BackendNames.Wasm, Code = "print(1)" };
}
