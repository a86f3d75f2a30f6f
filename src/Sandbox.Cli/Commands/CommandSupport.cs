using Sandbox.Cli.Hosting;
using Sandbox.Server.Hosting;
using Sandbox.Core.Errors;
using Sandbox.Core.Profiles;

namespace Sandbox.Cli.Commands;

/// <summary>What every command does the same way: build the host, report a bad profiles file.</summary>
internal static class CommandSupport
{
    /// <summary>Exit code when the profiles file is invalid: start-up stops with the full list.</summary>
    public const int BadProfiles = 78;

    public static SandboxHost? CreateHost(string? profilesPath, out int exitCode)
    {
        try
        {
            exitCode = 0;
            return SandboxHost.Create(profilesPath);
        }
        catch (ProfileConfigurationException ex)
        {
            Console.Error.WriteLine("sandbox: " + ex.Message);
            exitCode = BadProfiles;
            return null;
        }
    }

    /// <summary>
    /// Runs a long-lived server command (<c>serve</c>, <c>mcp</c>) to its end: 0, or <see cref="BadProfiles"/> with the
    /// message on stderr when the profiles file or a server setting is invalid.
    /// </summary>
    public static async Task<int> RunServerAsync(Func<Task> serve)
    {
        try
        {
            await serve();
            return 0;
        }
        catch (Exception ex) when (ex is ProfileConfigurationException or ServerConfigurationException)
        {
            await Console.Error.WriteLineAsync("sandbox: " + ex.Message);
            return BadProfiles;
        }
        catch (Exception ex) when (Guard.Store.PostgresGuardStore.IsStoreFailure(ex))
        {
            // One line, not a stack trace: the server is down, unreachable or refuses the credentials (Npgsql's message
            // names the host or the user, never the password).
            await Console.Error.WriteLineAsync($"sandbox: cannot open the PostgreSQL store: {ex.Message}; check Sandbox:Store:ConnectionString and that the server is up");
            return 1;
        }
    }

    /// <summary>The start-up sweep of stale containers; a failure here must not stop the command (doctor reports it).</summary>
    public static async Task ReapQuietlyAsync(SandboxHost host, CancellationToken cancellationToken)
    {
        try
        {
            await host.Reaper.ReapOnceAsync(cancellationToken);
        }
        catch (SandboxException)
        {
            // Docker unreachable: the run itself will report sandbox_error with the reason.
        }
    }
}
