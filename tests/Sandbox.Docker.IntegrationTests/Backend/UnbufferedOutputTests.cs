using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Docker.IntegrationTests.Support;

namespace Sandbox.Docker.IntegrationTests.Backend;

/// <summary>
/// A program that prints a line, flushes nothing and then spins until a limit kills it: the line must be in the
/// result. A buffered interpreter kept it in its own memory and the kill lost it (issue 12: Python returned empty
/// stdout where JavaScript returned the line, and SSE got everything in one chunk at exit).
/// </summary>
[Trait("Category", "Integration")]
public sealed class UnbufferedOutputTests(SandboxFixture sandbox)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, int> PrintThenSpin => new()
    {
        { "python", "print('got here')\nwhile True:\n    pass\n", 3000 },
        { "javascript", "console.log('got here');\nwhile (true) {}\n", 3000 },
        { "bash", "echo 'got here'\nwhile :; do :; done\n", 3000 },
        // glibc fully buffers stdout into a pipe; the profile runs the program under coreutils' stdbuf -o0 -e0, so a plain
        // printf with no flush is written at once.
        { "c", "#include <stdio.h>\nint main(void){ printf(\"got here\\n\"); for (;;) {} }", 3000 },
        // The runner starts a JIT and compiles the script first, hence the longer deadline.
        { "csharp", "System.Console.WriteLine(\"got here\");\nwhile (true) { }\n", 12000 },
    };

    [Theory]
    [MemberData(nameof(PrintThenSpin))]
    public async Task Run_PrintThenSpinUntilKilled_ReturnsTheLine(string language, string code, int wallTimeMs)
    {
        var result = await sandbox.RunAsync(new RunRequest { Language = language, Code = code, Limits = new LimitOverrides { WallTimeMs = wallTimeMs } }, Ct);

        result.Status.ShouldBeOneOf([RunStatus.Timeout, RunStatus.CpuLimit], result.Message + result.Stderr);
        result.Stdout.ShouldBe("got here\n", $"{language} kept the line in a buffer the kill discarded");
    }
}
