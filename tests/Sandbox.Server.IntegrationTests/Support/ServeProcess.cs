using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Sandbox.Server.IntegrationTests.Mcp;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Support;

/// <summary>
/// A real <c>sandbox serve</c> process on a free loopback port: for what only a real process shows (kill -9, its
/// own memory while a hostile run goes on beside it).
/// </summary>
internal sealed class ServeProcess : IDisposable
{
    private ServeProcess(Process process, int port)
    {
        Process = process;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
    }

    public Process Process { get; }

    public HttpClient Http { get; }

    /// <summary>
    /// Starts <c>sandbox serve</c> over <paramref name="data"/> with the repository's profiles, or with
    /// <paramref name="profiles"/> (a file or folder of the test's own) when given.
    /// </summary>
    public static ServeProcess Start(string data, string adminKey, int? port = null, IReadOnlyDictionary<string, string>? environment = null, string? profiles = null)
    {
        var chosen = port ?? FreePort();
        var (fileName, prefix) = McpProcess.SandboxExecutable();
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in prefix.Concat(["serve", "--profiles", profiles ?? Path.Join(RepositoryRoot.Path, "images"), "--urls", $"http://127.0.0.1:{chosen}"]))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["SANDBOX_DATA"] = data;
        start.Environment["Sandbox__Guard__AdminKey"] = adminKey;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + fileName);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServeProcess(process, chosen);
    }

    public async Task WaitHealthyAsync(CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            Process.HasExited.ShouldBeFalse($"sandbox serve exited with {(Process.HasExited ? Process.ExitCode : 0)}");
            try
            {
                using var response = await Http.GetAsync("/healthz", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new TimeoutException("sandbox serve did not become healthy within 60 s");
    }

    /// <summary>The service's resident memory now, from /proc (kB → bytes).</summary>
    public long ResidentBytes() => StatusField("VmRSS");

    /// <summary>The service's peak resident memory since the last <see cref="ResetPeak"/>.</summary>
    public long PeakResidentBytes() => StatusField("VmHWM");

    /// <summary>Resets the kernel's peak-RSS counter for the service (clear_refs 5), so a peak belongs to one attack.</summary>
    public void ResetPeak() => File.WriteAllText($"/proc/{Process.Id}/clear_refs", "5");

    public void Kill()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: false);
            Process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        Http.Dispose();
        Process.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private long StatusField(string name)
    {
        var line = File.ReadLines($"/proc/{Process.Id}/status").First(l => l.StartsWith(name + ":", StringComparison.Ordinal));
        return long.Parse(line[(name.Length + 1)..].Replace("kB", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture) * 1024;
    }
}
