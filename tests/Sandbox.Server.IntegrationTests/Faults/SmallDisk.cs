using System.Diagnostics;

namespace Sandbox.Server.IntegrationTests.Faults;

/// <summary>
/// A tmpfs of a few MiB mounted for one test (root), so a service's data folder can live on a disk the test fills; with a
/// folder beside it, on the real disk, for the service's logs. Unmounted and removed when disposed.
/// </summary>
internal sealed class SmallDisk : IAsyncDisposable
{
    private SmallDisk(DirectoryInfo mount, DirectoryInfo logs)
    {
        Mount = mount;
        Logs = logs;
    }

    /// <summary>The mounted filesystem: a data folder inside it is on the small disk.</summary>
    public DirectoryInfo Mount { get; }

    /// <summary>A folder on the real disk for the service's logs, which would otherwise fill the small one.</summary>
    public DirectoryInfo Logs { get; }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static async Task<SmallDisk> MountAsync(string topic, int megabytes)
    {
        var mount = Directory.CreateTempSubdirectory($"sandbox-{topic}-");
        var logs = Directory.CreateTempSubdirectory($"sandbox-{topic}-logs-");
        await RunAsync("mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=0700", "tmpfs", mount.FullName);
        return new SmallDisk(mount, logs);
    }

    public async ValueTask DisposeAsync()
    {
        await RunAsync("umount", "-l", Mount.FullName);
        Mount.Delete(recursive: true);
        Logs.Delete(recursive: true);
    }

    private static async Task RunAsync(string fileName, params string[] args)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync(Token);
        await process.WaitForExitAsync(Token);
        process.ExitCode.ShouldBe(0, $"{fileName} {string.Join(' ', args)}: {error}");
    }
}
