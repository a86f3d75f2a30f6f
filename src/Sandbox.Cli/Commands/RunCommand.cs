using System.CommandLine;
using System.Text;
using System.Text.Json;
using Sandbox.Cli.Hosting;
using Sandbox.Server.Hosting;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Core.Serialization;

namespace Sandbox.Cli.Commands;

/// <summary><c>sandbox run --lang python [--profile p] [--backend docker|wasm] [--stdin f] [--runtime runc|crun|runsc] [--json] &lt;file|-&gt;</c>.</summary>
internal static class RunCommand
{
    public static Command Create(Option<string?> profilesOption)
    {
        var file = new Argument<string>("file") { Description = "The program's source file, or - to read it from stdin." };
        var language = new Option<string>("--lang", "-l") { Description = "The language (a profile of the same name is its default).", Required = true };
        var profile = new Option<string?>("--profile", "-p") { Description = "A profile other than the language's default." };
        var stdin = new Option<string?>("--stdin") { Description = "A file whose content is the program's stdin." };
        var runtime = new Option<string?>("--runtime") { Description = "Container runtime: runc or crun, or runsc (gVisor). Only one at least as strong as the profile's is accepted (runc and crun are equal)." };
        runtime.AcceptOnlyFromAmong([.. RuntimeNames.Container]);
        var backend = new Option<string?>("--backend") { Description = "Force a backend: docker, or wasm (the language's default profile if it uses it, else the '<language>-wasm' profile)." };
        backend.AcceptOnlyFromAmong(BackendNames.Docker, BackendNames.Wasm);
        var json = new Option<bool>("--json") { Description = "Print the result object as JSON instead of the program's output." };
        var purpose = new Option<string?>("--purpose") { Description = "Why this code is run, kept with the run." };

        var command = new Command("run", "Run a program in a fresh sandbox and report exactly what happened.")
        {
            file, language, profile, backend, stdin, runtime, json, purpose,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            string code, input;
            try
            {
                code = parse.GetValue(language) == LanguageNames.Wasm && path != "-"
                    ? ModuleCode(await File.ReadAllBytesAsync(path, cancellationToken))
                    : path == "-" ? await Console.In.ReadToEndAsync(cancellationToken) : await File.ReadAllTextAsync(path, cancellationToken);
                input = parse.GetValue(stdin) is { } stdinPath ? await File.ReadAllTextAsync(stdinPath, cancellationToken) : "";
            }
            catch (IOException ex)
            {
                await Console.Error.WriteLineAsync($"sandbox: cannot read input: {ex.Message}");
                return CliExitCodes.UsageError;
            }

            var request = new RunRequest
            {
                Language = parse.GetValue(language)!,
                Code = code,
                Stdin = input.Length == 0 ? null : input,
                Profile = parse.GetValue(profile),
                Runtime = parse.GetValue(runtime),
                Backend = parse.GetValue(backend),
                Purpose = parse.GetValue(purpose),
            };

            await using var host = CommandSupport.CreateHost(parse.GetValue(profilesOption), out var exitCode);
            if (host is null)
            {
                return exitCode;
            }

            // A run that asked for WebAssembly touches no Docker at all: no ping, no sweep, no delay when Docker is down.
            var dockerDown = request.Backend != BackendNames.Wasm && !await host.CheckDockerAsync(cancellationToken);
            if (request.Backend != BackendNames.Wasm && !dockerDown)
            {
                await CommandSupport.ReapQuietlyAsync(host, cancellationToken);
            }

            RunResult result;
            try
            {
                result = await host.Pipeline.RunAsync(request, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                await Console.Error.WriteLineAsync("sandbox: cancelled; the run was killed and removed");
                return 130;
            }

            if (dockerDown && result.Backend == BackendNames.Wasm)
            {
                await Console.Error.WriteLineAsync($"sandbox: note: Docker is unreachable; ran on the WebAssembly backend with profile '{result.Profile}'");
            }

            if (parse.GetValue(json))
            {
                await Console.Out.WriteLineAsync(JsonSerializer.Serialize(result, SandboxJsonContext.Default.RunResult));
            }
            else
            {
                await WriteProgramOutputAsync(result);
            }

            return CliExitCodes.For(result);
        });
        return command;
    }

    /// <summary>For the language <c>wasm</c> the code is the module in base64: a binary file (starting with
    /// <c>\0asm</c>) is encoded here; anything else is taken as base64 text already.</summary>
    private static string ModuleCode(byte[] bytes) =>
        bytes is [0x00, 0x61, 0x73, 0x6D, ..] ? Convert.ToBase64String(bytes) : System.Text.Encoding.UTF8.GetString(bytes);

    private static async Task WriteProgramOutputAsync(RunResult result)
    {
        using var stdout = Console.OpenStandardOutput();
        await stdout.WriteAsync(Encoding.UTF8.GetBytes(result.Stdout));
        using var stderr = Console.OpenStandardError();
        await stderr.WriteAsync(Encoding.UTF8.GetBytes(result.Stderr));
        if (result.Status is not (RunStatus.Ok or RunStatus.RuntimeError))
        {
            await Console.Error.WriteLineAsync($"sandbox: {result.Status.ToWireName()}: {result.Message}");
        }
    }
}
