using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Http;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Guard;

/// <summary>
/// The audit chain of a run (request, decision, receipt before the code starts, result with the output's hash), and
/// <c>/admin/v1/audit/verify</c> finding the first record changed or removed behind the service's back.
/// Each test has its own service: tampering must not leak into another test's chain.
/// </summary>
[Trait("Category", "Integration")]
public sealed class AuditTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OkRun_IsAuditedAsRequestDecisionReceiptResult_WithTheExactOutputHash()
    {
        await using var factory = new SandboxApiFactory();
        var (issued, agent) = await factory.AgentAsync(Some.Agent("audit-ok"));
        const string Code = "printf 'caf\\xc3\\xa9 \\x1b[1mbold\\x1b[0m\\n'; printf 'tail\\xff'";
        const string Purpose = "check the audit trail of one run";

        using var response = await agent.PostRunAsync(new { language = "bash", code = Code, purpose = Purpose, rawOutput = true });

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var view = await response.JsonAsync();
        var runId = (string)view["id"]!;
        ((string?)view["result"]!["status"]).ShouldBe("ok");
        var stdout = Convert.FromBase64String((string)view["raw"]!["stdout"]!);
        stdout.ShouldBe([.. "caf\u00e9 "u8, 0x1b, .. "[1mbold"u8, 0x1b, .. "[0m\ntail"u8, 0xff]);

        var records = await factory.AuditOfRunAsync(runId);
        records.Select(r => $"{r!["kind"]} {r["status"]}").ShouldBe(["request received", "decision allowed", "receipt planned", "result ok"]);
        records.Select(r => (long)r!["sequence"]!).ShouldBeInOrder(SortDirection.Ascending);
        records.ShouldAllBe(r => (string?)r!["agentId"] == issued.Agent.Id);

        var request = records[0]!["data"]!;
        ((string?)request["code"]).ShouldBe(Code);
        ((string?)request["codeSha256"]).ShouldBe(Sha256(Encoding.UTF8.GetBytes(Code)));
        ((string?)request["purpose"]).ShouldBe(Purpose);
        ((string?)request["agent"]).ShouldBe(issued.Agent.Name);

        var receipt = records[2]!;
        var limits = receipt["data"]!["limits"]!;
        ((long)limits["cpuTimeMs"]!).ShouldBe((long)view["result"]!["limits"]!["cpuTimeMs"]!);
        ((long)limits["memoryBytes"]!).ShouldBe((long)view["result"]!["limits"]!["memoryBytes"]!);
        ((long)limits["wallTimeMs"]!).ShouldBe((long)view["result"]!["limits"]!["wallTimeMs"]!);
        ((string?)receipt["data"]!["image"]).ShouldBe("sandbox/bash:latest");
        ((DateTimeOffset)receipt["time"]!).ShouldBeLessThanOrEqualTo((DateTimeOffset)view["startedAt"]!, "the receipt is written before the code starts");

        var result = records[3]!["data"]!;
        ((string?)result["stdoutSha256"]).ShouldBe(Sha256(stdout));
        ((long)result["stdoutBytes"]!).ShouldBe(stdout.Length);
        ((string?)result["stderrSha256"]).ShouldBe(Sha256([]));

        var verification = await factory.VerifyAuditAsync();
        ((bool?)verification["intact"]).ShouldBe(true);
        ((long)verification["recordsChecked"]!).ShouldBeGreaterThanOrEqualTo((long)records[3]!["sequence"]!);
    }

    [Fact]
    public async Task Verify_ARecordChangedInTheFile_ReportsThatRecordAsTheFirstBroken()
    {
        await using var factory = new SandboxApiFactory();
        var (_, agent) = await factory.AgentAsync(Some.Agent("audit-tamper"));
        var runId = await RunOkAsync(agent, "echo secret");
        await RunOkAsync(agent, "echo later");
        await factory.ShouldBeIntactAsync();
        var result = (await factory.AuditOfRunAsync(runId)).Single(r => (string?)r!["kind"] == "result")!;
        var sequence = (long)result["sequence"]!;

        var data = result["data"]!.AsObject();
        data["stdoutSha256"] = Sha256("something else"u8.ToArray());
        await TamperAsync(factory, "UPDATE audit SET data = $data WHERE seq = $seq", ("$data", data.ToJsonString()), ("$seq", sequence));

        var verification = await factory.VerifyAuditAsync();
        ((bool?)verification["intact"]).ShouldBe(false);
        ((long?)verification["firstBrokenSequence"]).ShouldBe(sequence);
        ((string)verification["problem"]!).ShouldContain("changed");
    }

    [Fact]
    public async Task Verify_ARecordDeletedFromTheFile_ReportsTheGap()
    {
        await using var factory = new SandboxApiFactory();
        var (_, agent) = await factory.AgentAsync(Some.Agent("audit-delete"));
        var runId = await RunOkAsync(agent, "echo hidden");
        var decision = (await factory.AuditOfRunAsync(runId)).Single(r => (string?)r!["kind"] == "decision")!;
        var sequence = (long)decision["sequence"]!;

        await TamperAsync(factory, "DELETE FROM audit WHERE seq = $seq", ("$seq", sequence));

        var verification = await factory.VerifyAuditAsync();
        ((bool?)verification["intact"]).ShouldBe(false);
        ((long?)verification["firstBrokenSequence"]).ShouldBe(sequence + 1, "the record after the gap is the first that no longer checks out");
        ((string)verification["problem"]!).ShouldContain("missing");
    }

    /// <summary>Attack: cut the last run's result off the end. The chain left still links; the head taken before (an anchor) does not.</summary>
    [Fact]
    public async Task Verify_WithAnAnchor_FindsTheLastRunsRecordsCutOffTheEnd()
    {
        await using var factory = new SandboxApiFactory();
        var (_, agent) = await factory.AgentAsync(Some.Agent("audit-cut"));
        var runId = await RunOkAsync(agent, "echo the last thing it did");
        var head = (string)(await factory.VerifyAuditAsync())["head"]!;
        var last = (long)(await factory.AuditOfRunAsync(runId))[^1]!["sequence"]!;
        head.ShouldStartWith($"{last}:", Case.Sensitive, "the run's result is the newest record");

        await TamperAsync(factory, "DELETE FROM audit WHERE seq = $seq", ("$seq", last));

        (await factory.VerifyAuditAsync())["intact"]!.GetValue<bool>().ShouldBeTrue("the chain alone cannot see a cut tail");
        using var admin = factory.AdminClient();
        using var anchored = await admin.GetAsync($"/admin/v1/audit/verify?anchor={head}", Token);
        anchored.StatusCode.ShouldBe(HttpStatusCode.OK);
        var verification = await anchored.JsonAsync();
        ((bool?)verification["intact"]).ShouldBe(false);
        ((long?)verification["firstBrokenSequence"]).ShouldBe(last);
        ((int?)verification["anchorsChecked"]).ShouldBe(1);
        ((string)verification["problem"]!).ShouldContain("cut off the end");

        using var malformed = await admin.GetAsync("/admin/v1/audit/verify?anchor=7", Token);
        malformed.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await malformed.JsonAsync()).ErrorFields().ShouldBe(["anchor"]);
    }

    private static async Task<string> RunOkAsync(HttpClient agent, string code)
    {
        using var response = await agent.PostRunAsync(Some.Bash(code));
        var view = await response.JsonAsync();
        ((string?)view["result"]?["status"]).ShouldBe("ok", view.ToJsonString());
        return (string)view["id"]!;
    }

    /// <summary>Edits the database file directly, as someone with the file could: the append-only triggers go first.</summary>
    private static async Task TamperAsync(SandboxApiFactory factory, string sql, params (string Name, object Value)[] parameters)
    {
        var path = Path.Join(factory.DataDirectory, GuardPaths.DatabaseFileName);
        File.Exists(path).ShouldBeTrue(path);
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync(Token);
        await using (var drop = connection.CreateCommand())
        {
            drop.CommandText = "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;";
            await drop.ExecuteNonQueryAsync(Token);
        }

        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        (await command.ExecuteNonQueryAsync(Token)).ShouldBe(1);
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}

