using System.CommandLine;
using System.CommandLine.Help;
using Sandbox.Cli.Commands;
using Sandbox.Cli.Hosting;

namespace Sandbox.Cli;

/// <summary>The command tree of <c>sandbox</c>; <c>Program</c> only calls <see cref="RunAsync"/>.</summary>
internal static class SandboxCli
{
    public static RootCommand Build()
    {
        var profiles = new Option<string?>("--profiles")
        {
            Description = "Profiles file or folder (default: $SANDBOX_PROFILES, else profiles/ beside the executable).",
            Recursive = true,
        };

        return new RootCommand("Sandbox: run untrusted code in hardened containers and report exactly what happened.")
        {
            profiles,
            RunCommand.Create(profiles),
            ProfilesCommand.Create(profiles),
            DoctorCommand.Create(profiles),
            ReapCommand.Create(profiles),
            McpCommand.Create(profiles),
            ServeCommand.Create(profiles),
            AgentsCommand.Create(profiles),
            ApprovalsCommand.Create(),
            AuditCommand.Create(),
            RunsCommand.Create(profiles),
        };
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync("sandbox: " + error.Message);
            }

            await Console.Error.WriteLineAsync("Run 'sandbox --help' for usage.");
            return CliExitCodes.UsageError;
        }

        return await parse.InvokeAsync();
    }
}
