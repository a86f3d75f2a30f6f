using System.Net;
using System.Security.Cryptography;
using Sandbox.Server.IntegrationTests.Http;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Guard;

/// <summary>
/// Who may call: each bad credential on <c>/v1</c> is a 401 with its own code, audited as an <c>auth</c>
/// record without breaking the chain; the admin key and agent keys are not interchangeable.
/// </summary>
[Trait("Category", "Integration")]
public sealed class AuthTests : IClassFixture<SandboxApiFactory>
{
    private static readonly string[] s_bashOnly = ["bash"];

    private readonly SandboxApiFactory _factory;

    public AuthTests(SandboxApiFactory factory) => _factory = factory;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Runs_NoKey_Is401MissingKey_WithBearerChallenge_AndAudited()
    {
        using var client = _factory.CreateClient((string?)null);

        await ShouldBeRefusedAndAuditedAsync(() => client.PostRunAsync(Some.Bash("echo hi")), "missing_key");
    }

    /// <summary>
    /// Attack: a flood of bad keys. Each is a 401, but past the per-minute allowance they are counted, not
    /// recorded one by one: the log cannot be grown without bound, and the count still lands in it.
    /// </summary>
    [Fact]
    public async Task Runs_FloodOfBadKeys_IsAuditedUpToTheAllowanceThenCountedInOneRecord()
    {
        // Its own data folder, which outlives the factory (that deletes its own), to read the store after the stop.
        var dataDirectory = Path.Join(Path.GetTempPath(), "sandbox-server-tests", Guid.NewGuid().ToString("N"));
        var factory = new SandboxApiFactory(new Dictionary<string, string>
        {
            ["Sandbox:DataDirectory"] = dataDirectory,
            ["Sandbox:Guard:AuthFailuresAuditedPerMinute"] = "3",
        });
        try
        {
            using var client = factory.CreateClient("garbage");
            for (var i = 0; i < 10; i++)
            {
                using var response = await client.PostRunAsync(Some.Bash("echo hi"));
                response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, "every bad key is refused, counted or not");
            }

            var individual = await factory.AuditAsync("kind=auth");
            individual.Select(r => (string?)r!["status"]).ShouldBe(["malformed_key", "malformed_key", "malformed_key"]);
        }
        finally
        {
            // Stopping writes the count of the minute so far (a running service writes it once the minute is over).
            await factory.DisposeAsync();
        }

        await using var store = await Sandbox.Guard.Store.SqliteGuardStore.OpenAsync(Path.Join(dataDirectory, Sandbox.Guard.Store.GuardPaths.DatabaseFileName), TimeProvider.System, Token);

        // The test host may still be disposing its services (the guard among them) when DisposeAsync returns.
        IReadOnlyList<Sandbox.Guard.Audit.AuditRecord> records = [];
        for (var i = 0; i < 50 && records.Count < 4; i++)
        {
            records = await store.QueryAuditAsync(new Sandbox.Guard.Audit.AuditQuery { Kind = "auth" }, Token);
            if (records.Count < 4)
            {
                await Task.Delay(100, Token);
            }
        }

        records.Select(r => r.Status).ShouldBe(["malformed_key", "malformed_key", "malformed_key", "suppressed"]);
        var summary = System.Text.Json.Nodes.JsonNode.Parse(records[^1].Data)!;
        ((int)summary["count"]!).ShouldBe(7);
        ((int)summary["byCode"]!["malformed_key"]!).ShouldBe(7);
        (await store.VerifyAuditAsync(Token)).Intact.ShouldBeTrue();
        Directory.Delete(dataDirectory, recursive: true);
    }

    /// <summary>
    /// Attack: a flood of wrong admin keys. Expected: each is a 401, but past the per-minute allowance they are counted
    /// like agent-key failures, not recorded one by one.
    /// </summary>
    [Fact]
    public async Task Admin_FloodOfWrongAdminKeys_IsAuditedUpToTheAllowanceOnly()
    {
        await using var factory = new SandboxApiFactory(new Dictionary<string, string> { ["Sandbox:Guard:AuthFailuresAuditedPerMinute"] = "3" });
        using var client = factory.CreateClient("not-the-admin-key");

        for (var i = 0; i < 50; i++)
        {
            using var response = await client.GetAsync("/admin/v1/agents", Token);
            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, "every wrong admin key is refused, counted or not");
        }

        var individual = await factory.AuditAsync("kind=auth");
        individual.Select(r => (string?)r!["status"]).ShouldBe(["admin_refused", "admin_refused", "admin_refused"]);
    }

    /// <summary>
    /// Attack: an agent sends 4 MiB of code it may not run (above the profile's 1 MiB code cap, in a profile off its list).
    /// Expected: refused (400), and the refusal is audited with the code's hash and size, not the code: the database grows by
    /// a few KiB per refusal, not 4 MiB.
    /// </summary>
    [Fact]
    public async Task Runs_Refused4MiBRequest_IsAuditedByHashAndSize_AndTheDatabaseStaysSmall()
    {
        await using var factory = new SandboxApiFactory();
        var (issued, agent) = await factory.AgentAsync(Some.Agent("refused-big", "bash"));
        var code = "#" + new string('x', (4 * 1024 * 1024) - 1);
        var before = DatabaseBytes(factory);

        using var response = await agent.PostRunAsync(new { language = "python", code, purpose = "too big to keep" });

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync(Token));
        var growth = DatabaseBytes(factory) - before;
        growth.ShouldBeLessThan(256 * 1024, $"the database grew by {growth} bytes for one refused request");
        var request = (await factory.AuditAsync($"agent={issued.Agent.Name}&kind=request")).ShouldHaveSingleItem()!["data"]!;
        ((long)request["codeBytes"]!).ShouldBe(code.Length);
        ((string?)request["codeSha256"]).ShouldBe(Sandbox.Guard.Policy.AuditRecords.Sha256(code));
        request["code"].ShouldBeNull();
        ((bool?)request["codeOmitted"]).ShouldBe(true);
    }

    private static readonly string[] s_databaseSuffixes = ["", "-wal"];

    /// <summary>The guard database with its write-ahead log: what a request costs on disk.</summary>
    /// <summary>Refused requests whose bulk (about 7 MB) is in a field other than the code.</summary>
    public static TheoryData<string> BulkyFields => ["profile", "language", "backend", "runtime", "purpose", "many files", "long paths", "repeated long paths"];

    /// <summary>
    /// Attack: an agent whose rate is one run a minute sends, three times each, requests near the body cap that the guard
    /// refuses (400 invalid, then 429 over its rate), with the bulk in a name, the purpose or the files. Refusals have no
    /// cap of their own, so before each was recorded whole and the store grew by 6-25 MB per refusal (a 7 MB profile name:
    /// 56 MB for three; 220,000 file entries: 74 MB), about 70 MB a second from one client: a host's disk in minutes.
    /// Expected: each answered with a problem, and the store grows by a few KiB per refusal.
    /// </summary>
    [Theory]
    [MemberData(nameof(BulkyFields))]
    public async Task Runs_RefusedRequestsWithTheirBulkOutsideTheCode_GrowTheStoreByAFewKiBEach(string field)
    {
        await using var factory = new SandboxApiFactory();
        var (_, agent) = await factory.AgentAsync(Some.Agent("refused-" + field.Replace(' ', '-'), "bash") with { RatePerMinute = 1 });
        var bulk = new string('x', 7 * 1024 * 1024);
        object request = field switch
        {
            "profile" => new { language = "bash", code = "echo hi", profile = bulk },
            "language" => new { language = bulk, code = "echo hi" },
            "backend" => new { language = "bash", code = "echo hi", backend = bulk },
            "runtime" => new { language = "bash", code = "echo hi", runtime = bulk },
            "purpose" => new { language = "bash", code = "echo hi", purpose = bulk },
            "many files" => new { language = "bash", code = "echo hi", files = Enumerable.Range(0, 220_000).Select(i => new { path = $"f{i}", content = "" }).ToArray() },
            "long paths" => new { language = "bash", code = "echo hi", files = Enumerable.Range(0, 64).Select(i => new { path = $"{i}" + bulk[..100_000], content = "" }).ToArray() },
            "repeated long paths" => new { language = "bash", code = "echo hi", files = Enumerable.Range(0, 64).Select(_ => new { path = "a/" + bulk[..100_000], content = "" }).ToArray() },
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };
        var before = DatabaseBytes(factory);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await agent.PostRunAsync(request);
            statuses.Add(response.StatusCode);
            response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", await response.Content.ReadAsStringAsync(Token));
        }

        var growth = DatabaseBytes(factory) - before;
        statuses.ShouldAllBe(s => s == HttpStatusCode.BadRequest || s == HttpStatusCode.TooManyRequests, string.Join(", ", statuses));
        statuses.ShouldContain(HttpStatusCode.TooManyRequests, "the rate cap counts refused requests, and the later ones are over it");
        growth.ShouldBeLessThan(3 * 128 * 1024, $"the database grew by {growth} bytes for three refused requests ({field})");
        var records = await factory.AuditAsync("kind=request");
        records.Count.ShouldBe(3, "every refusal is still recorded");
        records.ShouldAllBe(r => r!["data"]!["codeOmitted"]!.GetValue<bool>());
        await factory.ShouldBeIntactAsync();
    }

    /// <summary>
    /// Attack: an agent over its rate sends 2,000 small requests from four connections. Each is refused at once (429),
    /// and each refusal was two audit records with no cap of their own: about 1.5 KB of store a refusal, at 1,900 refusals
    /// a second from one client in a real <c>sandbox serve</c> (about 240 GB a day). Expected: every one answered with its
    /// problem, the first 60 of the minute recorded one by one, and the store grows by what those cost, not by 2,000
    /// (the minute's count record is written once the minute is over: <c>RunLifecycleTests</c>).
    /// </summary>
    [Fact]
    public async Task Runs_AFloodOfRefusedRequests_IsAnsweredInFull_AndRecordedUpToTheAgentsAllowanceAMinute()
    {
        await using var factory = new SandboxApiFactory();
        var (issued, _) = await factory.AgentAsync(Some.Agent("refusal-flood", "bash") with { RatePerMinute = 1 });
        var before = DatabaseBytes(factory);

        var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var client = factory.CreateClient(issued.Key);
            for (var i = 0; i < 500; i++)
            {
                using var response = await client.PostRunAsync(new { language = "bash", code = "echo hi", profile = "no-such-profile", purpose = "a refused loop" });
                statuses.Add(response.StatusCode);
            }
        }));

        var growth = DatabaseBytes(factory) - before;
        statuses.Count.ShouldBe(2000);
        statuses.ShouldAllBe(s => s == HttpStatusCode.BadRequest || s == HttpStatusCode.TooManyRequests);
        var records = await factory.AuditAsync($"agent={issued.Agent.Name}&kind=request");
        records.Count.ShouldBe(60, "GuardOptions.RefusalsAuditedPerMinute's default, within the minute");
        // 1.4 MB with the allowance, mostly the write-ahead log of those 60 refusals' transactions; 7.2 MB before it.
        growth.ShouldBeLessThan(3 * 1024 * 1024, $"the database grew by {growth} bytes for 2,000 refused requests");
        await factory.ShouldBeIntactAsync();

        // The service's log, too: before, one or two lines a refusal (about 130 bytes each), so a loop at 1,900 refusals a
        // second filled the day's log file to its 1 GB cap in about an hour, and nothing after that was logged that day,
        // errors included.
        var lines = ServiceLogLines(factory).Count(l => l.Contains("refusal-flood", StringComparison.Ordinal) || l.Contains("rejected with", StringComparison.Ordinal));
        lines.ShouldBeInRange(60, 70, "one line for each refusal recorded, none for those only counted");
    }

    private static IEnumerable<string> ServiceLogLines(SandboxApiFactory factory)
    {
        var logs = Path.Join(factory.DataDirectory, "logs");
        foreach (var path in Directory.Exists(logs) ? Directory.GetFiles(logs) : [])
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                yield return line;
            }
        }
    }

    private static long DatabaseBytes(SandboxApiFactory factory) =>
        s_databaseSuffixes.Select(suffix => new FileInfo(Path.Join(factory.DataDirectory, Sandbox.Guard.Store.GuardPaths.DatabaseFileName + suffix)))
            .Sum(f => f.Exists ? f.Length : 0);

    /// <summary>The guard is opened before the web host exists; its warning lines after start-up must still reach the service's log.</summary>
    [Fact]
    public async Task Runs_BadKey_IsLoggedInTheServicesLogFile()
    {
        await using var factory = new SandboxApiFactory();
        using var client = factory.CreateClient("garbage");

        using var response = await client.PostRunAsync(Some.Bash("echo hi"));

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var logs = Path.Join(factory.DataDirectory, "logs");
        string text = "";
        for (var i = 0; i < 50 && !text.Contains("Refused a call to POST /v1/runs: malformed_key", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100, Token);
            text = string.Concat(Directory.Exists(logs) ? Directory.GetFiles(logs).Select(ReadShared) : []);
        }

        text.ShouldContain("Refused a call to POST /v1/runs: malformed_key");

        static string ReadShared(string path)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }

    [Fact]
    public async Task Runs_GarbageKey_Is401MalformedKey_AndAudited()
    {
        using var client = _factory.CreateClient("garbage");

        await ShouldBeRefusedAndAuditedAsync(() => client.PostRunAsync(Some.Bash("echo hi")), "malformed_key");
    }

    [Fact]
    public async Task Runs_WellFormedUnknownKey_Is401UnknownKey_AndAudited()
    {
        var unknown = "sbxa_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)) + "_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        using var client = _factory.CreateClient(unknown);

        await ShouldBeRefusedAndAuditedAsync(() => client.PostRunAsync(Some.Bash("echo hi")), "unknown_key");
    }

    [Fact]
    public async Task Runs_TaskTokenPastItsTtl_Is401TokenExpired_AndAudited()
    {
        var (_, agent) = await _factory.AgentAsync(Some.Agent("auth-ttl"));
        using var minted = await agent.MintTokenAsync(new { profiles = s_bashOnly, ttlSeconds = 1, purpose = "expires at once" });
        minted.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var token = _factory.CreateClient((string)(await minted.JsonAsync())["token"]!);

        await Task.Delay(TimeSpan.FromSeconds(1.5), Token);

        await ShouldBeRefusedAndAuditedAsync(() => token.PostRunAsync(Some.Bash("echo hi")), "token_expired");
    }

    [Fact]
    public async Task Runs_RotatedOldKey_Is401KeyRevoked_AndTheNewKeyWorks()
    {
        var (issued, old) = await _factory.AgentAsync(Some.Agent("auth-rotate"));
        using var rotated = await _factory.AdminPostAsync($"/admin/v1/agents/{issued.Agent.Id}/rotate", new { by = "test" });
        rotated.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var fresh = _factory.CreateClient((string)(await rotated.JsonAsync())["key"]!);

        await ShouldBeRefusedAndAuditedAsync(() => old.GetAsync("/v1/me", Token), "key_revoked");
        (await fresh.GetAsync("/v1/me", Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("1e-9")] // attack: created an agent that was already expired
    [InlineData("0.02")] // under an hour
    [InlineData("-1")]
    public async Task AdminApi_CreateAgentExpiringTooSoon_Is400NamingExpiresInDays(string days)
    {
        using var admin = _factory.AdminClient();
        var body = $"{{\"name\": \"{Some.AgentName("short-life")}\", \"profiles\": [\"bash\"], \"expiresInDays\": {days}}}";

        using var response = await admin.PostAsync("/admin/v1/agents", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Token);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync(Token));
        var problem = await response.JsonAsync();
        problem.ErrorFields().ShouldBe(["expiresInDays"]);
        ((string)problem["detail"]!).ShouldContain("at least 1 hour");
    }

    [Fact]
    public async Task Runs_AdminKey_Is401MalformedKey()
    {
        using var admin = _factory.AdminClient();

        await ShouldBeRefusedAndAuditedAsync(() => admin.PostRunAsync(Some.Bash("echo hi")), "malformed_key");
    }

    [Fact]
    public async Task AdminApi_AgentKey_Is401()
    {
        var (_, agent) = await _factory.AgentAsync(Some.Agent("auth-admin"));

        using var response = await agent.GetAsync("/admin/v1/agents", Token);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await response.JsonAsync()).Code().ShouldBe("admin_key_required");
        (await _factory.AuditAsync("kind=auth&status=admin_refused")).ShouldNotBeEmpty();
        await _factory.ShouldBeIntactAsync();
    }

    [Fact]
    public async Task Runs_PurposeOver1000Chars_Is400NamingPurpose_AndAuditedAsRequestAndRejection()
    {
        var (issued, agent) = await _factory.AgentAsync(Some.Agent("auth-purpose"));
        var purpose = new string('p', 1001);

        using var response = await agent.PostRunAsync(Some.Bash("echo hi", purpose));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).ErrorFields().ShouldContain("purpose");
        var runId = (await _factory.RunIdsOfAgentAsync(issued.Agent.Name)).ShouldHaveSingleItem();
        var records = await _factory.AuditOfRunAsync(runId);
        records.Select(r => $"{r!["kind"]} {r["status"]}").ShouldBe(["request received", "decision rejected"]);
        ((string?)records[0]!["data"]!["purpose"]).ShouldBe(purpose);
        await _factory.ShouldBeIntactAsync();
    }

    /// <summary>The call is a 401 with the code and a Bearer challenge, and one more <c>auth</c> record with that status exists in an intact chain.</summary>
    private async Task ShouldBeRefusedAndAuditedAsync(Func<Task<HttpResponseMessage>> call, string code)
    {
        var before = (await _factory.AuditAsync($"kind=auth&status={code}")).Count;

        using var response = await call();

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ShouldContain(h => h.Scheme == "Bearer");
        var problem = await response.JsonAsync();
        problem.Code().ShouldBe(code);
        var records = await _factory.AuditAsync($"kind=auth&status={code}");
        records.Count.ShouldBe(before + 1, $"one auth record {code} for the refused call");
        ((string?)records[^1]!["data"]!["reason"]).ShouldNotBeNullOrWhiteSpace();
        await _factory.ShouldBeIntactAsync();
    }
}

