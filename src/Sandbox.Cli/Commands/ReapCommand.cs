using System.CommandLine;
using Sandbox.Core.Errors;

namespace Sandbox.Cli.Commands;

/// <summary>
/// <c>sandbox reap [--every &lt;seconds&gt;]</c>: removes our labelled containers that outlived their deadline.
/// <c>sandbox run</c> sweeps once at start-up; this command sweeps on demand, or periodically until stopped
/// (for a host that runs the CLI from CI jobs, under cron or a service manager).
/// </summary>
internal static class ReapCommand
{
    public static Command Create(Option<string?> profilesOption)
    {
        var every = new Option<int?>("--every") { Description = "Sweep every N seconds until interrupted, instead of once." };
        every.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is <= 0)
            {
                result.AddError("--every must be a positive number of seconds");
            }
        });

        var command = new Command("reap", "Remove sandbox containers that outlived their deadline.") { every };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var host = CommandSupport.CreateHost(parse.GetValue(profilesOption), out var exitCode);
            if (host is null)
            {
                return exitCode;
            }

            if (parse.GetValue(every) is { } seconds)
            {
                try
                {
                    await host.Reaper.RunAsync(TimeSpan.FromSeconds(seconds), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl+C or SIGTERM: the normal way to stop a periodic reaper.
                }

                return 0;
            }

            try
            {
                var removed = await host.Reaper.ReapOnceAsync(cancellationToken);
                Console.WriteLine($"reap: removed {removed} container(s) past their deadline");
                return 0;
            }
            catch (SandboxException ex)
            {
                await Console.Error.WriteLineAsync("sandbox: " + ex.Message);
                return 1;
            }
        });
        return command;
    }
}
