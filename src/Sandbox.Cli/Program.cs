using System.CommandLine;
using Sandbox.Cli.Commands;
using Sandbox.Cli.Hosting;

var profiles = new Option<string?>("--profiles")
{
    Description = "Profiles file or folder (default: $SANDBOX_PROFILES, else profiles/ beside the executable).",
    Recursive = true,
};

var root = new RootCommand("Sandbox: run untrusted code in hardened containers and report exactly what happened.")
{
    profiles,
    RunCommand.Create(profiles),
    ProfilesCommand.Create(profiles),
    DoctorCommand.Create(profiles),
};

var parse = root.Parse(args);
if (parse.Errors.Count > 0 && parse.Action is not System.CommandLine.Help.HelpAction)
{
    foreach (var error in parse.Errors)
    {
        Console.Error.WriteLine("sandbox: " + error.Message);
    }

    Console.Error.WriteLine("Run 'sandbox --help' for usage.");
    return CliExitCodes.UsageError;
}

return await parse.InvokeAsync();
