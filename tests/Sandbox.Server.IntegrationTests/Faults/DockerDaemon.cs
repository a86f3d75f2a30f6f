using System.Diagnostics;
using System.Globalization;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Faults;

/// <summary>
/// The host's dockerd, for injecting its faults: SIGSTOP, SIGCONT, SIGKILL by the pid it wrote, and the restore every
/// test ends with: SIGCONT, <c>eng/docker-up.sh</c> (which starts it again when it does not answer), and <c>docker info</c>.
/// </summary>
internal static class DockerDaemon
{
    private const string PidFile = "/var/run/docker.pid";

    public static int Pid() => int.Parse(File.ReadAllText(PidFile).Trim(), CultureInfo.InvariantCulture);

    /// <summary>
    /// SIGSTOP, with a dead man's switch: a detached process sends SIGCONT after a minute even if this test process is
    /// killed first (a hang timeout), so the shared daemon is never left stopped.
    /// </summary>
    public static async Task StopAsync()
    {
        var pid = Pid().ToString(CultureInfo.InvariantCulture);
        var start = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "sh", "-c", "sleep 60; kill -s CONT \"$0\" 2>/dev/null", pid })
        {
            start.ArgumentList.Add(argument);
        }

        using (Process.Start(start))
        {
            // Detached: it outlives this handle, and this process.
        }

        await SignalAsync("STOP");
    }

    public static Task ContinueAsync() => SignalAsync("CONT");

    /// <summary>kill -9: the daemon goes, containerd's shims (and the containers under them) stay.</summary>
    public static async Task KillAsync()
    {
        var pid = Pid();
        await SignalAsync("KILL");
        for (var i = 0; i < 100 && File.Exists($"/proc/{pid}/status") && !File.ReadAllText($"/proc/{pid}/status").Contains("State:\tZ", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }
    }

    /// <summary>Whatever the test did, the daemon answers again afterwards; this fails loudly when it cannot be brought back.</summary>
    public static async Task RestoreAsync()
    {
        try
        {
            await SignalAsync("CONT");
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or FormatException)
        {
            // Not running (killed): docker-up.sh starts it.
        }

        var (code, output) = await RunAsync("bash", Path.Join(RepositoryRoot.Path, "eng", "docker-up.sh"));
        code.ShouldBe(0, "eng/docker-up.sh could not restore dockerd: " + output);
        (await RunAsync("docker", "info", "--format", "{{.ServerVersion}}")).Code.ShouldBe(0, "docker info must answer after the restore");
    }

    public static async Task<bool> AnswersAsync() => (await RunAsync("docker", "info", "--format", "{{.ServerVersion}}")).Code == 0;

    private static async Task SignalAsync(string signal)
    {
        var (code, output) = await RunAsync("kill", "-s", signal, Pid().ToString(CultureInfo.InvariantCulture));
        if (code != 0)
        {
            throw new InvalidOperationException($"kill -s {signal} dockerd failed: {output}");
        }
    }

    public static async Task<(int Code, string Output)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
