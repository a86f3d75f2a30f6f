namespace Sandbox.CSharpRunner.Tests;

public sealed class ScriptRunnerTests
{
    [Fact]
    public async Task RunAsync_ValidScript_ReturnsSuccessAndWritesNoDiagnostics()
    {
        var (code, stderr) = await RunAsync("var xs = new List<int> { 1, 2, 3 };\nvar sum = xs.Sum();\nsum\n");

        code.ShouldBe(ExitCodes.Success);
        stderr.ShouldBeEmpty();
    }

    [Fact]
    public async Task RunAsync_ReferenceDirective_IsCompileErrorWithClearMessage()
    {
        var (code, stderr) = await RunAsync("#r \"/usr/lib/evil.dll\"\nConsole.WriteLine(1);\n");

        code.ShouldBe(ExitCodes.CompileError);
        stderr.ShouldContain("#r is not allowed in the sandbox");
    }

    [Fact]
    public async Task RunAsync_LoadDirective_IsCompileErrorWithClearMessage()
    {
        var (code, stderr) = await RunAsync("#load \"/etc/passwd\"\n");

        code.ShouldBe(ExitCodes.CompileError);
        stderr.ShouldContain("#load is not allowed in the sandbox");
    }

    [Fact]
    public async Task RunAsync_ReferenceAfterFirstToken_IsCompileError()
    {
        var (code, stderr) = await RunAsync("Console.WriteLine(1);\n#r \"evil.dll\"\n");

        code.ShouldBe(ExitCodes.CompileError);
        stderr.ShouldContain("CS7009");
    }

    [Fact]
    public async Task RunAsync_TypeError_IsCompileErrorWithLocation()
    {
        var (code, stderr) = await RunAsync("int x = \"text\";\n");

        code.ShouldBe(ExitCodes.CompileError);
        code.ShouldBe(65);
        stderr.ShouldContain("main.csx(1,9): error CS0029");
    }

    [Fact]
    public async Task RunAsync_Throws_IsRuntimeErrorWithTypeAndMessage()
    {
        var (code, stderr) = await RunAsync("throw new InvalidOperationException(\"boom\");\n");

        code.ShouldBe(ExitCodes.RuntimeError);
        stderr.ShouldContain("System.InvalidOperationException: boom");
    }

    [Fact]
    public async Task RunAsync_ThrowsAfterAwait_IsRuntimeError()
    {
        var (code, stderr) = await RunAsync("await Task.Yield();\nvar d = new Dictionary<string, int>();\nConsole.WriteLine(d[\"missing\"]);\n");

        code.ShouldBe(ExitCodes.RuntimeError);
        stderr.ShouldContain("KeyNotFoundException");
    }

    [Fact]
    public void ExitCodes_CompileError_IsTheValueTheCsharpProfileNames()
    {
        // images/csharp/profile.json sets "compileErrorExitCode": 65; change both together.
        ExitCodes.CompileError.ShouldBe(65);
    }

    private static async Task<(int Code, string Stderr)> RunAsync(string script)
    {
        using var stderr = new StringWriter();
        var code = await ScriptRunner.RunAsync(script, "main.csx", stderr);
        return (code, stderr.ToString());
    }
}
