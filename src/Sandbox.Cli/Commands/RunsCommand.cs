using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sandbox.Cli.Hosting;
using Sandbox.Core.Errors;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Guard.Store;
using Sandbox.Server.Hosting;
using Sandbox.Server.Http;
using Sandbox.Server.Runs;
using static Sandbox.Cli.Commands.GuardCommandSupport;

namespace Sandbox.Cli.Commands;

/// <summary>
/// <c>sandbox runs replay RUN_ID [--json]</c>: re-executes a kept run from the data folder (like <c>sandbox audit</c>, no
/// service needed) through a run lifecycle of its own, exactly as <c>POST /admin/v1/runs/{id}/replay</c> does, and prints
/// how the replay differs from the original.
/// </summary>
internal static class RunsCommand
{
    public static Command Create(Option<string?> profilesOption)
    {
        var data = DataOption();
        var by = ByOption();
        return new Command("runs", "Kept runs: replay one and compare.") { data, by, ReplayCommand(data, by, profilesOption) };
    }

    private static Command ReplayCommand(Option<string?> data, Option<string?> by, Option<string?> profilesOption)
    {
        var id = new Argument<string>("run-id") { Description = "The run to replay (run_…), as GET /v1/runs and the audit log name it." };
        var json = new Option<bool>("--json") { Description = "Print the comparison as JSON (both runs and the differences)." };
        var command = new Command("replay", "Re-run a kept run with its stored inputs, receipted limits and pinned image; print the differences.") { id, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var runId = parse.GetValue(id)!;
            var directory = GuardPaths.ResolveDataDirectory(parse.GetValue(data));
            if (!File.Exists(GuardPaths.Database(directory)))
            {
                // Opening would create an empty store under a mistyped folder, and then not find the run.
                await Error($"no store at {GuardPaths.Database(directory)}; pass the service's data folder with --data (or ${GuardPaths.DataDirectoryVariable})");
                return AdminExitCodes.BadConfiguration;
            }

            ReplayView? view;
            ApiProblem? problem;
            try
            {
                (view, problem) = await LocalReplay.ReplayAsync(directory, parse.GetValue(profilesOption), runId, Actor(parse.GetValue(by)), cancellationToken);
            }
            catch (Exception ex) when (ex is ProfileConfigurationException or ServerConfigurationException)
            {
                await Error(ex.Message);
                return AdminExitCodes.BadConfiguration;
            }

            if (problem is not null)
            {
                await Error($"{problem.Code}: {problem.Detail}");
                return AdminExitCodes.Failed;
            }

            if (parse.GetValue(json))
            {
                await WriteJsonAsync(JsonSerializer.SerializeToNode(view, ServerJsonContext.Default.ReplayView)!);
            }
            else
            {
                await WriteComparisonAsync(view!);
            }

            return AdminExitCodes.Ok;
        });
        return command;
    }

    private static async Task WriteComparisonAsync(ReplayView view)
    {
        var output = Console.Out;
        var result = view.ReplayRun.Result;
        await output.WriteLineAsync($"replay {view.Replay} of {view.Original}{(view.ArtifactDigest is { } d ? " on " + d : "")}: {result?.Status.ToWireName()}, exit code {result?.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}");
        if (view.Identical)
        {
            await output.WriteLineAsync("identical: status, exit code, stdout and stderr are the same");
            return;
        }

        foreach (var difference in view.Differences)
        {
            if (difference.Diff is { } lines)
            {
                await output.WriteLineAsync($"{difference.Field} differs:");
                foreach (var line in lines)
                {
                    // The program's output: control characters shown, never interpreted by the terminal.
                    await output.WriteLineAsync("  " + TerminalText.Safe(line));
                }
            }
            else
            {
                await output.WriteLineAsync($"{difference.Field} differs: {TerminalText.Safe(difference.Original ?? "-")} -> {TerminalText.Safe(difference.Replay ?? "-")}");
            }
        }
    }
}
