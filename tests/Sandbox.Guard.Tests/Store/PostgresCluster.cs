using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

[assembly: AssemblyFixture(typeof(Sandbox.Guard.Tests.Store.PostgresCluster))]

namespace Sandbox.Guard.Tests.Store;

/// <summary>
/// A real PostgreSQL server of the tests' own: a private cluster made from nothing with <c>initdb</c> in a temporary folder,
/// started with <c>pg_ctl</c> on a free loopback port, on first use only (tests of SQLite alone never start it), and
/// stopped and removed when the test assembly ends. Each test gets a database of its own (<see cref="CreateDatabaseAsync"/>).
/// </summary>
/// <remarks>
/// PostgreSQL refuses to run as root, so as root the binaries run as the <c>postgres</c> user that Debian's package
/// creates (through <c>runuser</c>). A missing PostgreSQL fails the tests, never skips them: CI installs it
/// (<c>.ci/run</c>), and a contract test that silently ran against SQLite alone would prove nothing.
/// </remarks>
public sealed class PostgresCluster : IAsyncDisposable
{
    private const string Superuser = "sandbox";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    private string? _root;
    private string? _binaries;
    private int _port;

    /// <summary>The folder of the cluster (data, socket, log), once started.</summary>
    public string? Root => _root;

    /// <summary>A new, empty database on the cluster (started now if it is not yet); its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken)
    {
        await StartOnceAsync(cancellationToken);
        var name = "t_" + Guid.NewGuid().ToString("N");
        await using (var admin = new NpgsqlConnection(ConnectionString("postgres", pooling: false)))
        {
            await admin.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        return ConnectionString(name, pooling: true);
    }

    /// <summary>A connection string to <paramref name="database"/> as the cluster's superuser.</summary>
    public string ConnectionString(string database, bool pooling) => new NpgsqlConnectionStringBuilder
    {
        Host = IPAddress.Loopback.ToString(),
        Port = _port,
        Username = Superuser,
        Password = _password,
        Database = database,
        Pooling = pooling,

        // Small pools: many tests run side by side against one server with a bounded max_connections.
        MaxPoolSize = 20,
        Timeout = 30,
    }.ToString();

    public async ValueTask DisposeAsync()
    {
        if (_root is { } root && _binaries is { } binaries)
        {
            try
            {
                await RunAsync(Path.Join(binaries, "pg_ctl"), ["stop", "-D", Path.Join(root, "data"), "-m", "fast", "-w", "-t", "30"], CancellationToken.None);
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
        }

        _gate.Dispose();
    }

    private async Task StartOnceAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_root is not null)
            {
                return;
            }

            if (OperatingSystem.IsWindows())
            {
                throw new PlatformNotSupportedException("The tests' PostgreSQL cluster runs on Linux (Debian's postgresql package).");
            }

            _binaries = FindBinaries();
            var root = Path.Join(Path.GetTempPath(), "sandbox-pg-" + Guid.NewGuid().ToString("N")[..12]);

            // Owner-only: the folder holds the password file and the server's socket.
            Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            _root = root;
            if (IsRoot)
            {
                await RunAsync("chown", ["postgres:postgres", root], cancellationToken);
            }

            var passwordFile = Path.Join(root, "password");
            await File.WriteAllTextAsync(passwordFile, _password + "\n", cancellationToken);
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead); // readable by postgres; the folder is not

            var data = Path.Join(root, "data");

            // Password authentication even on loopback: other users of the machine must not reach the tests' databases.
            await RunAsync(Path.Join(_binaries, "initdb"),
                ["-D", data, "-U", Superuser, "--pwfile", passwordFile, "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync"],
                cancellationToken);
            File.Delete(passwordFile);

            for (var attempt = 1; ; attempt++)
            {
                _port = FreeLoopbackPort();
                await File.AppendAllTextAsync(Path.Join(data, "postgresql.conf"),
                    $"""

                    # The tests' own server: loopback only, its socket in its own folder, no system service involved.
                    listen_addresses = '127.0.0.1'
                    port = {_port}
                    unix_socket_directories = '{root}'
                    max_connections = 200
                    shared_buffers = 32MB
                    # Throwaway data: no fsync, so the suite costs no disk flushes (never on a server that keeps data).
                    fsync = off
                    synchronous_commit = off
                    full_page_writes = off

                    """, cancellationToken);
                try
                {
                    await RunAsync(Path.Join(_binaries, "pg_ctl"), ["start", "-D", data, "-l", Path.Join(root, "server.log"), "-w", "-t", "60"], cancellationToken);
                    return;
                }
                catch (InvalidOperationException) when (attempt < 3)
                {
                    // Most likely the port was taken between choosing it and binding it: the last setting wins, try another.
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>Debian keeps the server's binaries out of PATH, in /usr/lib/postgresql/VERSION/bin; the newest wins.</summary>
    private static string FindBinaries()
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Where(d => File.Exists(Path.Join(d, "bin", "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .ToList()
            : [];
        return versions.Count > 0
            ? Path.Join(versions[0], "bin")
            : throw new InvalidOperationException(
                "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): the PostgreSQL store's contract tests need it. " +
                "Install Debian's `postgresql` package (`.ci/run` does); its system service need not run.");
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Runs a PostgreSQL tool (as <c>postgres</c> when we are root) and throws with its output when it fails.</summary>
    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (IsRoot && program != "chown")
        {
            start.FileName = "runuser";
            foreach (var argument in (string[])["-u", "postgres", "--", program])
            {
                start.ArgumentList.Add(argument);
            }
        }
        else
        {
            start.FileName = program;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CommandTimeout);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stderr}{await stdout}");
        }
    }
}
