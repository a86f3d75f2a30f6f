using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Guard;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Server.Hosting;
using Sandbox.Server.Metrics;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Tests.Runs;

/// <summary>
/// A <see cref="RunLifecycle"/> over a <see cref="FakeBackend"/>, a fake clock and a real SQLite store in a folder of its
/// own (removed afterwards). <see cref="FailAsync"/> makes the store refuse a write as a full disk would, behind the
/// lifecycle's back. Two profiles: <c>python</c>, and <c>python-approve</c>, which needs a human for every run.
/// </summary>
internal sealed class LifecycleHarness : IAsyncDisposable
{
    private readonly string _directory = Path.Join(Path.GetTempPath(), "sandbox-lifecycle-tests", Guid.NewGuid().ToString("N"));

    private LifecycleHarness(SqliteGuardStore store, RunGuard guard, RunLifecycle lifecycle, AgentAdmin admin)
    {
        Store = store;
        Guard = guard;
        Lifecycle = lifecycle;
        Admin = admin;
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    public FakeBackend Backend { get; } = new();

    public SqliteGuardStore Store { get; private set; }

    public RunGuard Guard { get; private set; }

    public RunLifecycle Lifecycle { get; private set; }

    /// <summary>The pipeline behind <see cref="Lifecycle"/> (a test may build a second lifecycle over it, as a restarted service would).</summary>
    public RunPipeline Pipeline { get; private set; } = null!;

    public AgentAdmin Admin { get; private set; }

    private string DatabasePath => Path.Join(_directory, "guard.db");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<LifecycleHarness> StartAsync(int serviceSlots = 4, int queue = 8)
    {
        var harness = new LifecycleHarness(null!, null!, null!, null!);
        await harness.OpenAsync(serviceSlots, queue);
        return harness;
    }

    /// <summary>A new agent allowed both profiles, and its principal.</summary>
    public async Task<Principal> AgentAsync(int maxConcurrentRuns = 2, string name = "bot")
    {
        var issued = (await Admin.CreateAsync(new AgentSpec { Name = name, Profiles = ["python", "python-approve"], MaxConcurrentRuns = maxConcurrentRuns, RatePerMinute = 1000 }, "test", Ct)).Value.ShouldNotBeNull();
        return (await Guard.Keys.CheckKeyAsync("Bearer " + issued.Key, Ct)).Principal.ShouldNotBeNull();
    }

    public async Task<RunEntry> SubmitAsync(Principal principal, string profile = "python", string? key = null)
    {
        var outcome = await Lifecycle.SubmitAsync(principal, Request(profile), rawOutput: false, key, key is null ? null : "digest-" + key, Ct);
        outcome.Problem.ShouldBeNull(outcome.Problem?.Detail);
        return outcome.Entry.ShouldNotBeNull();
    }

    public static RunRequest Request(string profile = "python") => new() { Language = "python", Profile = profile, Code = "print(1)", Purpose = "lifecycle test" };

    /// <summary>The run's row as a restart would read it.</summary>
    public Task<StoredRun?> RowAsync(string runId) => Store.FindRunAsync(runId, Ct);

    /// <summary>The agent's slots in use, as the ledger counts them.</summary>
    public int InFlight(Principal principal) => Guard.Ledger.InFlight(principal.Agent.Id);

    /// <summary>Makes the store fail writes matching a trigger's condition, as a full disk would; dispose to heal it.</summary>
    public async Task<IAsyncDisposable> FailAsync(string trigger)
    {
        var name = "fault_" + Guid.NewGuid().ToString("N")[..8];
        await RawAsync($"CREATE TRIGGER {name} {trigger} BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;");
        return new Healing(() => RawAsync($"DROP TRIGGER {name};"));
    }

    public async ValueTask DisposeAsync()
    {
        // Shutdown waits out the grace period on the fake clock: move it on until every run is recorded (bounded in real time).
        var shutdown = Lifecycle.ShutdownAsync(CancellationToken.None);
        for (var i = 0; i < 500 && !shutdown.IsCompleted; i++)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20, CancellationToken.None);
        }

        await shutdown.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        await Store.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private async Task OpenAsync(int serviceSlots, int queue)
    {
        Store = await SqliteGuardStore.OpenAsync(DatabasePath, Time, Ct);
        Guard = new RunGuard(Store, new GuardOptions { NodeId = "test" }, NullAlertSink.Instance, Time, NullLogger<RunGuard>.Instance);
        Admin = new AgentAdmin(Store, Time);
        var limits = new ResourceLimits
        {
            WallTimeMs = 10_000,
            CpuTimeMs = 1_000,
            MemoryBytes = 64L * 1024 * 1024,
            Pids = 16,
            StdoutBytes = 64 * 1024,
            StderrBytes = 64 * 1024,
            FileSizeBytes = 1024 * 1024,
            TmpBytes = 1024 * 1024,
        };
        var python = new Profile { Name = "python", Language = "python", Backend = BackendNames.Docker, Image = "sandbox/python:latest", Command = ["python3", "main.py"], SourceFile = "main.py", Limits = limits };
        var profiles = ProfileSet.Create(new Dictionary<string, Profile>
        {
            ["python"] = python,
            ["python-approve"] = python with { Name = "python-approve", RequiresApproval = true },
        });
        var pipeline = new RunPipeline(profiles, [Backend], Time, NullLogger<RunPipeline>.Instance);
        Pipeline = pipeline;
        var options = new ServerOptions { MaxConcurrentRuns = serviceSlots, MaxQueueLength = queue, ShutdownGracePeriod = TimeSpan.FromSeconds(20) };
        Lifecycle = new RunLifecycle(pipeline, Guard, Store, options, new SandboxMetrics(), Time, NullLogger<RunLifecycle>.Instance);
    }

    private async Task RawAsync(string sql)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }

    private sealed class Healing(Func<Task> heal) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await heal();
    }
}
