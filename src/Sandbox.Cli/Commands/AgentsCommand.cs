using System.CommandLine;
using System.Globalization;
using Sandbox.Cli.Hosting;
using Sandbox.Core.Profiles;
using Sandbox.Guard.Agents;
using Sandbox.Server.Hosting;
using static Sandbox.Cli.Commands.GuardCommandSupport;

namespace Sandbox.Cli.Commands;

/// <summary>
/// <c>sandbox agents create | list | show | rotate | revoke | hold | release</c>: the operator's actions on
/// agents, through <see cref="AgentAdmin"/> so they validate and audit exactly as the admin API does.
/// The output is in <c>AgentsCommand.Output.cs</c>.
/// </summary>
internal static partial class AgentsCommand
{
    private static readonly AgentSpec s_defaults = new() { Name = "", Profiles = [] };

    public static Command Create(Option<string?> profilesOption)
    {
        var data = DataOption();
        var by = ByOption();
        return new Command("agents", "Create, inspect, rotate, revoke and hold the agents that may run code.")
        {
            data, by,
            CreateCommand(profilesOption, data, by),
            ListCommand(data),
            ShowCommand(data),
            RotateCommand(data, by),
            RevokeCommand(data, by),
            HoldCommand(data, by, underApproval: true),
            HoldCommand(data, by, underApproval: false),
        };
    }

    private static Command CreateCommand(Option<string?> profilesOption, Option<string?> data, Option<string?> by)
    {
        var name = new Argument<string>("name") { Description = "A unique name: 1 to 64 of a-z, 0-9, '-', '_' and '.'." };
        var profiles = new Option<string[]>("--profile")
        {
            Description = "A profile the agent may use; repeat it (or separate with commas) for several. There is no wildcard.",
            Required = true,
        };
        var rate = new Option<int>("--rate") { Description = "Runs admitted per minute at most.", DefaultValueFactory = _ => s_defaults.RatePerMinute };
        var concurrency = new Option<int>("--concurrency") { Description = "Runs queued or running at once at most.", DefaultValueFactory = _ => s_defaults.MaxConcurrentRuns };
        var cpu = new Option<double>("--daily-cpu-seconds") { Description = "Measured CPU seconds per UTC day at most.", DefaultValueFactory = _ => s_defaults.DailyCpuSeconds };
        var runs = new Option<int>("--daily-runs") { Description = "Runs admitted per UTC day at most.", DefaultValueFactory = _ => s_defaults.DailyRuns };
        var stored = new Option<int>("--daily-stored-mb") { Description = "What its runs may add to the store per UTC day at most, in MiB (code, stdin, files, output, artifacts).", DefaultValueFactory = _ => s_defaults.DailyStoredMb };
        var sessions = new Option<int>("--max-open-sessions") { Description = "Sessions open at once at most (0: no sessions).", DefaultValueFactory = _ => s_defaults.MaxOpenSessions };
        var sessionMemory = new Option<int>("--max-session-memory-mb") { Description = "The sum of the memory limits of its open sessions at most, in MiB (0: no sessions).", DefaultValueFactory = _ => s_defaults.MaxSessionMemoryMb };
        var expiresIn = TimeArguments.DurationOption("--expires-in", $"How long the agent and its key live: <n>d, <n>h or <n>m (default {s_defaults.ExpiresIn.TotalDays:0}d, at most {AgentAdmin.MaxLifetime.TotalDays:0}d).");
        var json = JsonOption();

        var command = new Command("create", "Create an agent and print its key, once.") { name, profiles, rate, concurrency, cpu, runs, stored, sessions, sessionMemory, expiresIn, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            ProfileSet known;
            try
            {
                known = ProfileLoader.Load(SandboxHost.ResolveProfilesPath(parse.GetValue(profilesOption)));
            }
            catch (ProfileConfigurationException ex)
            {
                await Error($"cannot load the profiles to check --profile against (give them with --profiles or $SANDBOX_PROFILES): {ex.Message}");
                return AdminExitCodes.BadConfiguration;
            }

            var spec = new AgentSpec
            {
                Name = parse.GetValue(name)!,
                Profiles = parse.GetValue(profiles)!
                    .SelectMany(p => p.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList(),
                RatePerMinute = parse.GetValue(rate),
                MaxConcurrentRuns = parse.GetValue(concurrency),
                DailyCpuSeconds = parse.GetValue(cpu),
                DailyRuns = parse.GetValue(runs),
                MaxSessionMemoryMb = parse.GetValue(sessionMemory),
                MaxOpenSessions = parse.GetValue(sessions),
                DailyStoredMb = parse.GetValue(stored),
                ExpiresIn = parse.GetValue(expiresIn) ?? s_defaults.ExpiresIn,
            };

            return await WithStoreAsync(parse.GetValue(data), async store =>
            {
                var admin = new AgentAdmin(store, TimeProvider.System, known.All.Select(p => p.Name).ToHashSet(StringComparer.Ordinal));
                var result = await admin.CreateAsync(spec, Actor(parse.GetValue(by)), cancellationToken);
                if (!result.Ok)
                {
                    return await FailAsync(WithOptionNames(result));
                }

                await WriteIssuedKeyAsync(result.Value!, created: true, parse.GetValue(json));
                return AdminExitCodes.Ok;
            }, cancellationToken, createIfMissing: true);
        });
        return command;
    }

    private static Command ListCommand(Option<string?> data)
    {
        var json = JsonOption();
        var command = new Command("list", "List the agents with their profiles, caps, expiry and state.") { json };
        command.SetAction((parse, cancellationToken) => WithStoreAsync(parse.GetValue(data), async store =>
        {
            var agents = await store.ListAgentsAsync(cancellationToken);
            await WriteAgentListAsync(agents, TimeProvider.System.GetUtcNow(), parse.GetValue(json));
            return AdminExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static Command ShowCommand(Option<string?> data)
    {
        var agent = AgentArgument();
        var json = JsonOption();
        var command = new Command("show", "Show an agent: its settings, its credentials (never their secrets) and today's usage.") { agent, json };
        command.SetAction((parse, cancellationToken) => WithStoreAsync(parse.GetValue(data), async store =>
        {
            if (await store.FindAgentAsync(parse.GetValue(agent)!, cancellationToken) is not { } found)
            {
                await Error($"no agent '{parse.GetValue(agent)}'; `sandbox agents list` shows them");
                return AdminExitCodes.Failed;
            }

            var now = TimeProvider.System.GetUtcNow();
            var credentials = await store.ListCredentialsAsync(found.Id, cancellationToken);
            var day = now.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var usage = await store.GetUsageAsync(found.Id, day, cancellationToken);
            await WriteAgentDetailAsync(found, credentials, day, usage, now, parse.GetValue(json));
            return AdminExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static Command RotateCommand(Option<string?> data, Option<string?> by)
    {
        var agent = AgentArgument();
        var json = JsonOption();
        var command = new Command("rotate", "Give an agent a new key and revoke its old one; prints the new key, once.") { agent, json };
        command.SetAction((parse, cancellationToken) => WithStoreAsync(parse.GetValue(data), async store =>
        {
            var result = await new AgentAdmin(store, TimeProvider.System).RotateAsync(parse.GetValue(agent)!, Actor(parse.GetValue(by)), cancellationToken);
            if (!result.Ok)
            {
                return await FailAsync(result);
            }

            await WriteIssuedKeyAsync(result.Value!, created: false, parse.GetValue(json));
            return AdminExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static Command RevokeCommand(Option<string?> data, Option<string?> by)
    {
        var agent = AgentArgument();
        var reason = new Option<string?>("--reason") { Description = "Why, kept with the agent and in the audit log." };
        var command = new Command("revoke", "Revoke an agent for good: its key and task tokens stop working and its running code is killed.") { agent, reason };
        command.SetAction((parse, cancellationToken) => WithStoreAsync(parse.GetValue(data), async store =>
        {
            var result = await new AgentAdmin(store, TimeProvider.System).RevokeAsync(parse.GetValue(agent)!, parse.GetValue(reason), Actor(parse.GetValue(by)), cancellationToken);
            if (!result.Ok)
            {
                return await FailAsync(result);
            }

            var revoked = result.Value!;
            await Console.Out.WriteLineAsync($"revoked agent {revoked.Name} ({revoked.Id}): {TerminalText.Safe(revoked.RevokedReason)}");
            await Console.Out.WriteLineAsync("Its key and task tokens stop working now; a running service kills its in-flight runs within a second.");
            return AdminExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary><c>hold</c> (every run of the agent waits for a human) and <c>release</c> (clears that).</summary>
    private static Command HoldCommand(Option<string?> data, Option<string?> by, bool underApproval)
    {
        var agent = AgentArgument();
        var reason = new Option<string?>("--reason") { Description = "Why, kept with the agent and in the audit log." };
        var command = underApproval
            ? new Command("hold", "Put an agent under approval: each of its runs waits for `sandbox approvals approve`.") { agent, reason }
            : new Command("release", "Take an agent out of approval: its runs are admitted by its caps again.") { agent };
        command.SetAction((parse, cancellationToken) => WithStoreAsync(parse.GetValue(data), async store =>
        {
            var result = await new AgentAdmin(store, TimeProvider.System).SetUnderApprovalAsync(
                parse.GetValue(agent)!, underApproval, underApproval ? parse.GetValue(reason) : null, Actor(parse.GetValue(by)), cancellationToken);
            if (!result.Ok)
            {
                return await FailAsync(result);
            }

            var held = result.Value!;
            await Console.Out.WriteLineAsync(underApproval
                ? $"agent {held.Name} ({held.Id}) is under approval: {TerminalText.Safe(held.UnderApprovalReason)}; each run waits for `sandbox approvals approve`"
                : $"agent {held.Name} ({held.Id}) is no longer under approval");
            return AdminExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static Argument<string> AgentArgument() => new("agent") { Description = "The agent's name or id (agt_…)." };

    private static Option<bool> JsonOption() => new("--json") { Description = "Print JSON instead of text." };

    /// <summary>AgentAdmin names fields as the admin API does; the CLI adds the option that sets each.</summary>
    private static AdminResult<IssuedKey> WithOptionNames(AdminResult<IssuedKey> result) => result.Errors is not { } errors ? result : result with
    {
        Errors = errors.Select(e => e with
        {
            Field = e.Field switch
            {
                "name" => "name (the NAME argument)",
                "profiles" => "profiles (--profile)",
                "ratePerMinute" => "ratePerMinute (--rate)",
                "maxConcurrentRuns" => "maxConcurrentRuns (--concurrency)",
                "dailyCpuSeconds" => "dailyCpuSeconds (--daily-cpu-seconds)",
                "dailyRuns" => "dailyRuns (--daily-runs)",
                "expiresIn" => "expiresIn (--expires-in)",
                _ => e.Field,
            },
        }).ToList(),
    };
}
