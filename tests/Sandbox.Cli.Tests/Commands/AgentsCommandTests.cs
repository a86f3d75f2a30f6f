using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Sandbox.Cli.Commands;
using Sandbox.Cli.Hosting;
using Sandbox.Cli.Tests.Support;
using Sandbox.Guard.Audit;

namespace Sandbox.Cli.Tests.Commands;

[Collection(nameof(ConsoleUsers))]
public sealed class AgentsCommandTests : IDisposable
{
    private readonly GuardCli _cli = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Create_PrintsTheKeyOnceAndTheStoreHoldsOnlyItsHash()
    {
        var output = await _cli.RunAsync("agents", "create", "report-bot", "--profile", "python");

        output.Code.ShouldBe(0, output.ToString());
        output.Stdout.ShouldContain("will not be shown again");
        var key = output.Stdout.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("key: ", StringComparison.Ordinal))["key: ".Length..];
        key.ShouldStartWith("sbxa_");
        output.Stdout.Split(key).Length.ShouldBe(2, "the key is printed exactly once");

        var (keyId, secret) = (key.Split('_')[1], key.Split('_')[2]);
        await using (var store = await _cli.OpenStoreAsync())
        {
            var credential = (await store.FindCredentialAsync(keyId, Ct)).ShouldNotBeNull();
            credential.SecretSha256.ShouldBe(Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(secret))));
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.EnumerateFiles(_cli.DataDirectory))
        {
            var bytes = Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file, Ct));
            bytes.ShouldNotContain(secret, customMessage: $"{file} holds the key's secret");
            bytes.ShouldNotContain(key);
        }
    }

    [Fact]
    public async Task Create_Json_PrintsOneObjectWithTheKeyAndTheSettings()
    {
        var output = await _cli.RunAsync("agents", "create", "ci", "--profile", "python", "--rate", "5", "--concurrency", "1",
            "--daily-cpu-seconds", "120.5", "--daily-runs", "50", "--expires-in", "12h", "--json");

        output.Code.ShouldBe(0, output.ToString());
        using var json = JsonDocument.Parse(output.Stdout);
        var root = json.RootElement;
        root.GetProperty("key").GetString()!.ShouldStartWith("sbxa_");
        root.GetProperty("name").GetString().ShouldBe("ci");
        root.GetProperty("ratePerMinute").GetInt32().ShouldBe(5);
        root.GetProperty("maxConcurrentRuns").GetInt32().ShouldBe(1);
        root.GetProperty("dailyCpuSeconds").GetDouble().ShouldBe(120.5);
        root.GetProperty("dailyRuns").GetInt32().ShouldBe(50);
        (root.GetProperty("expiresAt").GetDateTimeOffset() - root.GetProperty("createdAt").GetDateTimeOffset()).ShouldBe(TimeSpan.FromHours(12));
    }

    [Fact]
    public async Task Create_UnknownProfile_IsAUsageErrorNamingProfiles()
    {
        var output = await _cli.RunAsync("agents", "create", "bot", "--profile", "python", "--profile", "cobol");

        output.Code.ShouldBe(AdminExitCodes.UsageError, output.ToString());
        output.Stderr.ShouldContain("sandbox: profiles");
        output.Stderr.ShouldContain("cobol");
        output.Stdout.ShouldNotContain("sbxa_");
    }

    [Fact]
    public async Task Create_OutOfRangeCaps_NamesEveryFieldAndItsOption()
    {
        var output = await _cli.RunAsync("agents", "create", "Bad Name", "--profile", "python", "--rate", "0", "--expires-in", "400d");

        output.Code.ShouldBe(AdminExitCodes.UsageError, output.ToString());
        output.Stderr.ShouldContain("name (the NAME argument)");
        output.Stderr.ShouldContain("ratePerMinute (--rate)");
        output.Stderr.ShouldContain("expiresIn (--expires-in)");
    }

    [Theory]
    [InlineData("1m")]
    [InlineData("59m")] // an agent that lives under an hour is a mistake (or a rounding slip); a short-lived credential is a task token
    public async Task Create_ExpiresInUnderAnHour_IsAUsageErrorNamingTheOption(string value)
    {
        var output = await _cli.RunAsync("agents", "create", "bot", "--profile", "python", "--expires-in", value);

        output.Code.ShouldBe(AdminExitCodes.UsageError, output.ToString());
        output.Stderr.ShouldContain("expiresIn (--expires-in)");
        output.Stderr.ShouldContain("at least 1 hour");
    }

    [Theory]
    [InlineData("90")]
    [InlineData("3w")]
    [InlineData("-1d")]
    public async Task Create_MalformedExpiresIn_IsAUsageErrorNamingTheOption(string value)
    {
        var output = await _cli.RunAsync("agents", "create", "bot", "--profile", "python", "--expires-in", value);

        output.Code.ShouldBe(AdminExitCodes.UsageError);
        output.Stderr.ShouldContain("--expires-in");
    }

    [Fact]
    public async Task Create_DuplicateName_Exits1()
    {
        await _cli.CreateAgentAsync("bot");

        var output = await _cli.RunAsync("agents", "create", "bot", "--profile", "python");

        output.Code.ShouldBe(AdminExitCodes.Failed);
        output.Stderr.ShouldContain("already exists");
    }

    [Fact]
    public async Task Create_ProfilesCannotBeLoaded_Exits78()
    {
        var output = await CliConsole.RunAsync("agents", "create", "bot", "--profile", "python",
            "--data", _cli.DataDirectory, "--profiles", Path.Join(_cli.DataDirectory, "missing.json"));

        output.Code.ShouldBe(CommandSupport.BadProfiles);
        output.Stderr.ShouldContain("cannot load the profiles");
    }

    [Fact]
    public async Task List_ShowsEachAgentWithItsState()
    {
        await _cli.CreateAgentAsync("alpha");
        await _cli.CreateAgentAsync("beta");
        await _cli.CreateAgentAsync("gamma");
        (await _cli.RunAsync("agents", "revoke", "beta")).Code.ShouldBe(0);
        (await _cli.RunAsync("agents", "hold", "gamma")).Code.ShouldBe(0);

        var text = await _cli.RunAsync("agents", "list");
        var json = await _cli.RunAsync("agents", "list", "--json");

        text.Code.ShouldBe(0);
        text.Stdout.Split('\n').Single(l => l.StartsWith("beta ", StringComparison.Ordinal)).ShouldContain("revoked");
        using var list = JsonDocument.Parse(json.Stdout);
        list.RootElement.EnumerateArray().ToDictionary(a => a.GetProperty("name").GetString()!, a => a.GetProperty("state").GetString())
            .ShouldBe(new Dictionary<string, string?> { ["alpha"] = "active", ["beta"] = "revoked", ["gamma"] = "under-approval" }, ignoreOrder: true);
    }

    [Fact]
    public async Task Show_ListsCredentialsAndTodaysUsageButNeverAHash()
    {
        var (id, _) = await _cli.CreateAgentAsync("bot");
        string hash;
        await using (var store = await _cli.OpenStoreAsync())
        {
            await store.AddUsageAsync(id, TimeProvider.System.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), 3, 1500, Ct);
            hash = (await store.ListCredentialsAsync(id, Ct)).Single().SecretSha256;
        }

        var byName = await _cli.RunAsync("agents", "show", "bot", "--json");
        var byId = await _cli.RunAsync("agents", "show", id);

        byName.Code.ShouldBe(0, byName.ToString());
        using var json = JsonDocument.Parse(byName.Stdout);
        json.RootElement.GetProperty("credentials").GetArrayLength().ShouldBe(1);
        json.RootElement.GetProperty("credentials")[0].GetProperty("kind").GetString().ShouldBe("agent_key");
        json.RootElement.GetProperty("usageToday").GetProperty("runs").GetInt32().ShouldBe(3);
        json.RootElement.GetProperty("usageToday").GetProperty("cpuSeconds").GetDouble().ShouldBe(1.5);
        byId.Stdout.ShouldContain("3 of 1000 runs");
        byName.Stdout.ShouldNotContain(hash);
        byId.Stdout.ShouldNotContain(hash);
    }

    [Fact]
    public async Task Show_UnknownAgent_Exits1()
    {
        await _cli.CreateEmptyStoreAsync();
        var output = await _cli.RunAsync("agents", "show", "nobody");

        output.Code.ShouldBe(AdminExitCodes.Failed);
        output.Stderr.ShouldContain("no agent 'nobody'");
    }

    [Fact]
    public async Task Rotate_RevokesTheOldKeyAndPrintsADifferentOne()
    {
        var (id, oldKey) = await _cli.CreateAgentAsync("bot");

        var output = await _cli.RunAsync("agents", "rotate", "bot", "--json");

        output.Code.ShouldBe(0, output.ToString());
        using var json = JsonDocument.Parse(output.Stdout);
        var newKey = json.RootElement.GetProperty("key").GetString()!;
        newKey.ShouldStartWith("sbxa_");
        newKey.ShouldNotBe(oldKey);
        await using var store = await _cli.OpenStoreAsync();
        (await store.FindCredentialAsync(oldKey.Split('_')[1], Ct)).ShouldNotBeNull().RevokedAt.ShouldNotBeNull();
        (await store.FindCredentialAsync(newKey.Split('_')[1], Ct)).ShouldNotBeNull().RevokedAt.ShouldBeNull();
        (await store.FindAgentAsync(id, Ct)).ShouldNotBeNull().RevokedAt.ShouldBeNull();
    }

    [Fact]
    public async Task Revoke_MarksTheAgentRevokedAndSaysItsRunsAreKilled_AndAgainExits1()
    {
        var (id, _) = await _cli.CreateAgentAsync("bot");

        var output = await _cli.RunAsync("agents", "revoke", "bot", "--reason", "leaked key");
        var again = await _cli.RunAsync("agents", "revoke", id);

        output.Code.ShouldBe(0, output.ToString());
        output.Stdout.ShouldContain("kills its in-flight runs within a second");
        again.Code.ShouldBe(AdminExitCodes.Failed);
        again.Stderr.ShouldContain("already revoked");
        await using var store = await _cli.OpenStoreAsync();
        var agent = (await store.FindAgentAsync(id, Ct)).ShouldNotBeNull();
        agent.RevokedAt.ShouldNotBeNull();
        agent.RevokedReason.ShouldBe("leaked key");
    }

    [Fact]
    public async Task HoldAndRelease_ToggleUnderApprovalAndAuditTheActor()
    {
        var (id, _) = await _cli.CreateAgentAsync("bot");

        var hold = await _cli.RunAsync("agents", "hold", "bot", "--reason", "odd traffic", "--by", "alice");
        bool held;
        await using (var store = await _cli.OpenStoreAsync())
        {
            held = (await store.FindAgentAsync(id, Ct))!.UnderApproval;
        }

        var release = await _cli.RunAsync("agents", "release", "bot");

        hold.Code.ShouldBe(0, hold.ToString());
        release.Code.ShouldBe(0, release.ToString());
        held.ShouldBeTrue();
        await using var after = await _cli.OpenStoreAsync();
        (await after.FindAgentAsync(id, Ct))!.UnderApproval.ShouldBeFalse();
        var records = await after.QueryAuditAsync(new AuditQuery { AgentId = id, Kind = AuditKinds.Admin }, Ct);
        records.Select(r => r.Status).ShouldBe(["agent_created", "approval_hold_set", "approval_hold_cleared"]);
        records[1].Data.ShouldContain("\"actor\":\"alice\"");
        records[2].Data.ShouldContain($"\"actor\":\"cli:{Environment.UserName}\"");
    }

    [Fact]
    public async Task HoldAndRelease_OfARevokedAgent_Exit1AndAuditNothing()
    {
        var (id, _) = await _cli.CreateAgentAsync("bot");
        (await _cli.RunAsync("agents", "revoke", "bot")).Code.ShouldBe(0);

        foreach (var action in new[] { "hold", "release" })
        {
            var output = await _cli.RunAsync("agents", action, "bot");

            output.Code.ShouldBe(AdminExitCodes.Failed, action);
            output.Stderr.ShouldContain("was revoked");
        }

        await using var store = await _cli.OpenStoreAsync();
        (await store.QueryAuditAsync(new AuditQuery { AgentId = id, Kind = AuditKinds.Admin }, Ct)).Select(r => r.Status)
            .ShouldBe(["agent_created", "agent_revoked"]);
    }

    [Fact]
    public async Task Actions_OnAnUnknownAgent_Exit1()
    {
        await _cli.CreateEmptyStoreAsync();
        foreach (var action in new[] { "rotate", "revoke", "hold", "release" })
        {
            var output = await _cli.RunAsync("agents", action, "nobody");

            output.Code.ShouldBe(AdminExitCodes.Failed, action);
            output.Stderr.ShouldStartWith("sandbox: no agent 'nobody'");
        }
    }

    public void Dispose() => _cli.Dispose();
}
