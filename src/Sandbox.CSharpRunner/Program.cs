using Sandbox.CSharpRunner;

// Usage: Sandbox.CSharpRunner <script.csx>. Exit codes: see ExitCodes.cs (65 = did not compile).
if (args.Length != 1)
{
    await Console.Error.WriteLineAsync("usage: Sandbox.CSharpRunner <script.csx>");
    return ExitCodes.Usage;
}

string code;
try
{
    code = await File.ReadAllTextAsync(args[0]);
}
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
{
    await Console.Error.WriteLineAsync($"cannot read {args[0]}: {ex.Message}");
    return ExitCodes.NoInput;
}

return await ScriptRunner.RunAsync(code, Path.GetFileName(args[0]), Console.Error);
