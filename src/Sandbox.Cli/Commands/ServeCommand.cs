using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Sandbox.Server.Hosting;

namespace Sandbox.Cli.Commands;

/// <summary>
/// <c>sandbox serve [ASP.NET options]</c>: the HTTP service. Anything after the command is passed to the
/// ASP.NET host, so <c>--urls http://127.0.0.1:9000</c> and <c>--Sandbox:MaxConcurrentRuns=4</c> work as usual.
/// </summary>
internal static class ServeCommand
{
    public static Command Create(Option<string?> profilesOption)
    {
        var command = new Command("serve", $"Run the HTTP service (default {SandboxServer.DefaultUrl}); extra arguments go to the ASP.NET host, such as --urls or --Sandbox:MaxConcurrentRuns=4.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            List<string> args = [.. parse.UnmatchedTokens];
            if (parse.GetValue(profilesOption) is { Length: > 0 } profiles)
            {
                args.Add($"--{ServerOptions.Section}:{nameof(ServerOptions.Profiles)}={profiles}");
            }

            return await CommandSupport.RunServerAsync(async () =>
            {
                await using var app = SandboxServer.Build([.. args]);
                await app.StartAsync(cancellationToken);
                await app.WaitForShutdownAsync(cancellationToken);
            });
        });
        return command;
    }
}
