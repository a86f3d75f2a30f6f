using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Sandbox.Cli.Hosting;
using Sandbox.Server.Hosting;
using Sandbox.Core.Profiles;
using Sandbox.Core.Serialization;

namespace Sandbox.Cli.Commands;

/// <summary><c>sandbox profiles list | show &lt;name&gt; | validate &lt;file&gt;</c>.</summary>
internal static class ProfilesCommand
{
    public static Command Create(Option<string?> profilesOption)
    {
        var list = new Command("list", "List the profiles with their runtime, image and main limits.");
        list.SetAction(parse => WithProfiles(parse.GetValue(profilesOption), set =>
        {
            Console.WriteLine($"{"PROFILE",-22} {"LANGUAGE",-11} {"BACKEND",-7} {"RUNTIME",-7} {"WALL",7} {"CPU",7} {"MEMORY",8}  IMAGE");
            foreach (var p in set.All.OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{p.Name,-22} {p.Language,-11} {p.Backend,-7} {p.Runtime,-7} {p.Limits.WallTimeMs / 1000.0,6:0.#}s {p.Limits.CpuTimeMs / 1000.0,6:0.#}s {p.Limits.MemoryBytes / (1024 * 1024),5}MiB  {p.Image}"));
            }

            return 0;
        }));

        var name = new Argument<string>("name") { Description = "The profile's name." };
        var show = new Command("show", "Print one profile as JSON.") { name };
        show.SetAction(parse => WithProfiles(parse.GetValue(profilesOption), set =>
        {
            var wanted = parse.GetValue(name)!;
            if (!set.TryGet(wanted, out var profile))
            {
                Console.Error.WriteLine($"sandbox: unknown profile '{wanted}'; known: {string.Join(", ", set.All.Select(p => p.Name).Order(StringComparer.Ordinal))}");
                return CliExitCodes.UsageError;
            }

            Console.WriteLine(JsonSerializer.Serialize(profile, SandboxJsonContext.Default.Profile));
            return 0;
        }));

        var file = new Argument<string>("file") { Description = "A profiles file (or folder of them) to check." };
        var validate = new Command("validate", "Check a profiles file and list every error with its field path.") { file };
        validate.SetAction(parse => WithProfiles(parse.GetValue(file), set =>
        {
            Console.WriteLine($"ok: {set.All.Count} profile(s) for {string.Join(", ", set.Languages)}");
            return 0;
        }));

        return new Command("profiles", "Inspect and validate language limit profiles.") { list, show, validate };
    }

    private static int WithProfiles(string? path, Func<ProfileSet, int> action)
    {
        ProfileSet set;
        try
        {
            set = ProfileLoader.Load(SandboxHost.ResolveProfilesPath(path));
        }
        catch (ProfileConfigurationException ex)
        {
            Console.Error.WriteLine("sandbox: " + ex.Message);
            return CommandSupport.BadProfiles;
        }

        return action(set);
    }
}
