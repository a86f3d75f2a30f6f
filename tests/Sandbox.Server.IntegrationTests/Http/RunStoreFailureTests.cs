using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>
/// A run whose record cannot be written is refused with <c>503 store_unavailable</c>, and what admission took is given
/// back: before, the failed write leaked the agent's concurrency slot and CPU reservation until a restart (issue 11, finding 7).
/// </summary>
public sealed class RunStoreFailureTests : IAsyncDisposable
{
    private readonly SandboxApiFactory _factory = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task Post_RunRecordFails_Is503StoreUnavailable_AndTheSlotIsGivenBack()
    {
        var agent = await _factory.CreateAgentAsync(new AgentSpec { Name = "one-slot", Profiles = ["bash"], MaxConcurrentRuns = 1 });
        using var client = _factory.CreateClient(agent.Key);

        // The store fails the run's row as a full disk would; the trigger is the fault, added behind the service's back.
        await RawAsync("CREATE TRIGGER runs_full BEFORE INSERT ON runs BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;");
        for (var i = 0; i < 2; i++)
        {
            using var refused = await client.PostAsJsonAsync("/v1/runs", new { language = "bash", code = "echo never", purpose = "fail to record" }, Token);
            var problem = await refused.Content.ReadFromJsonAsync<JsonObject>(Token);
            refused.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, problem?.ToJsonString());
            problem!["code"]!.GetValue<string>().ShouldBe("store_unavailable");
        }

        await RawAsync("DROP TRIGGER runs_full;");
        using var ok = await client.PostAsJsonAsync("/v1/runs", new { language = "bash", code = "echo after", purpose = "the slot is free" }, Token);
        var view = await ok.Content.ReadFromJsonAsync<JsonObject>(Token);
        ok.StatusCode.ShouldBe(HttpStatusCode.OK, view?.ToJsonString());
        view!["result"]!["stdout"]!.GetValue<string>().ShouldBe("after\n");
    }

    [Fact]
    public async Task Post_AuditCannotBeWritten_GoodKeyIs503StoreUnavailable_BadKeyStill401_NeitherABare500()
    {
        var agent = await _factory.CreateAgentAsync(new AgentSpec { Name = "full-disk", Profiles = ["bash"] });
        using var good = _factory.CreateClient(agent.Key);
        using var bad = _factory.CreateClient("sbxa_not-a-real-key");
        await RawAsync("CREATE TRIGGER audit_full BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;");

        // A wrong key is refused whatever the disk says: the refusal does not depend on the store taking its record.
        using (var refusedKey = await bad.PostAsJsonAsync("/v1/runs", new { language = "bash", code = "echo never", purpose = "full disk" }, Token))
        {
            var problem = await refusedKey.Content.ReadFromJsonAsync<JsonObject>(Token);
            refusedKey.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, problem?.ToJsonString());
            refusedKey.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        }

        using (var refused = await good.PostAsJsonAsync("/v1/runs", new { language = "bash", code = "echo never", purpose = "full disk" }, Token))
        {
            var problem = await refused.Content.ReadFromJsonAsync<JsonObject>(Token);
            refused.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, problem?.ToJsonString());
            problem!["code"]!.GetValue<string>().ShouldBe("store_unavailable");
            refused.Headers.RetryAfter.ShouldNotBeNull();
        }

        await RawAsync("DROP TRIGGER audit_full;");
        using var ok = await good.PostAsJsonAsync("/v1/runs", new { language = "bash", code = "echo after", purpose = "the store is back" }, Token);
        ok.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Readyz_StoreCannotWrite_Is503NamingTheStore_AndReadyAgainOnceItCan()
    {
        using var client = _factory.CreateClient();
        (await ReadyzAsync(client)).Store.ShouldBe(true, "a fresh store takes writes");

        // The probe's write fails as on a full disk; the table exists now, the probe created it.
        await RawAsync("CREATE TRIGGER probe_full BEFORE UPDATE ON write_probe BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;");
        var failing = await WaitForStoreAsync(client, expected: false);
        failing.Status.ShouldBe(HttpStatusCode.ServiceUnavailable);
        failing.Detail.ShouldNotBeNull().ShouldContain("store_unavailable");

        await RawAsync("DROP TRIGGER probe_full;");
        (await WaitForStoreAsync(client, expected: true)).Status.ShouldBe(HttpStatusCode.OK);
    }

    /// <summary>Polls /readyz until its <c>store</c> check is <paramref name="expected"/>: the probe caches for at most a second.</summary>
    private static async Task<(HttpStatusCode Status, bool? Store, string? Detail)> WaitForStoreAsync(HttpClient client, bool expected)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            var answer = await ReadyzAsync(client);
            if (answer.Store == expected || TimeProvider.System.GetElapsedTime(started) > TimeSpan.FromSeconds(3))
            {
                answer.Store.ShouldBe(expected, "/readyz follows the store within a second");
                return answer;
            }

            await Task.Delay(100, Token);
        }
    }

    private static async Task<(HttpStatusCode Status, bool? Store, string? Detail)> ReadyzAsync(HttpClient client)
    {
        using var ready = await client.GetAsync("/readyz", Token);
        var report = await ready.Content.ReadFromJsonAsync<JsonObject>(Token);
        var store = report!["checks"]!.AsArray().SingleOrDefault(c => (string?)c!["name"] == "store");
        return (ready.StatusCode, (bool?)store?["ok"], (string?)store?["detail"]);
    }

    private async Task RawAsync(string sql)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = GuardPaths.Database(_factory.DataDirectory), Pooling = false }.ToString());
        await connection.OpenAsync(Token);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Token);
    }
}
