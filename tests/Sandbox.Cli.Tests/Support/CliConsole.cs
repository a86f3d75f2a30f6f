namespace Sandbox.Cli.Tests.Support;

/// <summary>What one CLI invocation returned and printed.</summary>
public sealed record CliOutput(int Code, string Stdout, string Stderr)
{
    /// <summary>For assertion messages: everything the command said.</summary>
    public override string ToString() => $"exit {Code}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs the CLI in-process with its console captured.</summary>
public static class CliConsole
{
    public static async Task<CliOutput> RunAsync(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            var code = await SandboxCli.RunAsync(args);
            return new CliOutput(code, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
