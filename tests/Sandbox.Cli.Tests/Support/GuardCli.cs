using System.Text.Json;
using Microsoft.Data.Sqlite;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;

namespace Sandbox.Cli.Tests.Support;

/// <summary>
/// The CLI in-process against a fresh data folder and a one-profile profiles file, with the console
/// captured. Tests using it belong to the <see cref="Commands.ConsoleUsers"/> collection, because console
/// redirection is process-wide.
/// </summary>
public sealed class GuardCli : IDisposable
{
    private const string Profiles = """
        { "profiles": { "python": { "language": "python", "image": "sandbox/python:latest", "command": ["python3", "main.py"],
          "sourceFile": "main.py", "limits": { "wallTimeMs": 10000, "cpuTimeMs": 5000, "memoryBytes": 268435456, "pids": 64,
          "stdoutBytes": 1048576, "stderrBytes": 1048576, "fileSizeBytes": 1048576, "tmpBytes": 67108864 } } } }
        """;

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("cli-guard-");

    public GuardCli()
    {
        ProfilesPath = Path.Join(_dir.FullName, "profiles.json");
        File.WriteAllText(ProfilesPath, Profiles);
    }

    public string DataDirectory => Path.Join(_dir.FullName, "data");

    public string ProfilesPath { get; }

    public string DatabasePath => GuardPaths.Database(DataDirectory);

    /// <summary>Runs <c>sandbox args… --data DIR --profiles FILE</c>.</summary>
    public Task<CliOutput> RunAsync(params string[] args) =>
        CliConsole.RunAsync([.. args, "--data", DataDirectory, "--profiles", ProfilesPath]);

    /// <summary>Creates an agent through the CLI and returns its id and key.</summary>
    public async Task<(string Id, string Key)> CreateAgentAsync(string name, params string[] extra)
    {
        var output = await RunAsync(["agents", "create", name, "--profile", "python", "--json", .. extra]);
        output.Code.ShouldBe(0, output.Stderr);
        using var json = JsonDocument.Parse(output.Stdout);
        return (json.RootElement.GetProperty("id").GetString()!, json.RootElement.GetProperty("key").GetString()!);
    }

    /// <summary>Creates the store with nothing in it, as a folder the operator has set up but not used yet.</summary>
    public async Task CreateEmptyStoreAsync()
    {
        await using var store = await OpenStoreAsync();
    }

    public Task<SqliteGuardStore> OpenStoreAsync() => SqliteGuardStore.OpenAsync(DatabasePath, TimeProvider.System, TestContext.Current.CancellationToken);

    /// <summary>A pending approval written straight to the store, as the service would when a run needs a human.</summary>
    public async Task<Approval> CreateApprovalAsync(string agentId, string agentName, string code = "print('hello')", string? codeSha256 = null, Func<Approval, Approval>? shape = null)
    {
        await using var store = await OpenStoreAsync();
        var now = TimeProvider.System.GetUtcNow();
        var approval = new Approval
        {
            Id = AgentKeys.NewId("apr_"),
            RunId = AgentKeys.NewId("run_"),
            AgentId = agentId,
            AgentName = agentName,
            Profile = "python",
            Language = "python",
            Code = code,
            CodeSha256 = codeSha256 ?? AuditRecords.Sha256(code),
            Purpose = "tidy the report",
            Reason = "profile python requires approval",
            CreatedAt = now,
            ExpiresAt = now.AddHours(1),
        };
        approval = shape?.Invoke(approval) ?? approval;
        await store.CreateApprovalAsync(approval, TestContext.Current.CancellationToken);
        return approval;
    }

    /// <summary>Runs SQL on the database file directly, as someone with the file (not the store) would.</summary>
    public async Task ExecuteRawAsync(string sql)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Delete(recursive: true);
    }
}
