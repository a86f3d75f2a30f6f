using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Guard.Tests.Store;

namespace Sandbox.Guard.Tests.Policy;

/// <summary>A task token is tied to the agent key that minted it, against a real store.</summary>
public sealed class TokenMinterTests : TempDatabase
{
    [Fact]
    public async Task CheckKeyAsync_TokenAfterItsKeyIsRotated_IsKeyRevoked()
    {
        var (guard, admin, issued) = await GuardAsync();
        var token = await MintAsync(guard, issued.Key);
        (await guard.CheckKeyAsync("Bearer " + token, Ct)).Principal.ShouldNotBeNull("the token works before the rotation");

        (await admin.RotateAsync(issued.Agent.Name, "test", Ct)).Value.ShouldNotBeNull();
        var after = await guard.CheckKeyAsync("Bearer " + token, Ct);

        after.Principal.ShouldBeNull("a rotation is how a leaked key is stopped, and its tokens carry its authority");
        after.Code.ShouldBe("key_revoked");
    }

    [Fact]
    public async Task CheckKeyAsync_TokenWhoseKeyIsRevokedButNotTheToken_IsKeyRevoked()
    {
        // The key is revoked behind the rotation's back (another node, an older build, a hand on the file):
        // the token's own row says nothing, and the check must still follow it to its key.
        var (guard, _, issued) = await GuardAsync();
        var token = await MintAsync(guard, issued.Key);

        await RawAsync("UPDATE credentials SET revoked_at = '2026-01-01T00:00:01.0000000Z' WHERE id = $id", ("$id", issued.KeyId));
        var after = await guard.CheckKeyAsync("Bearer " + token, Ct);

        after.Principal.ShouldBeNull();
        after.Code.ShouldBe("key_revoked");
        after.Message.ShouldNotBeNull().ShouldContain(issued.KeyId);
    }

    [Fact]
    public async Task RefreshAsync_TokenAfterItsKeyIsRotated_IsNull()
    {
        var (guard, admin, issued) = await GuardAsync();
        var principal = (await guard.CheckKeyAsync("Bearer " + await MintAsync(guard, issued.Key), Ct)).Principal.ShouldNotBeNull();

        (await admin.RotateAsync(issued.Agent.Name, "test", Ct)).Value.ShouldNotBeNull();

        (await guard.RefreshAsync(principal, Ct)).ShouldBeNull();
    }

    [Fact]
    public async Task MintTokenAsync_RecordsTheMintingKey()
    {
        var (guard, _, issued) = await GuardAsync();
        var parent = (await guard.CheckKeyAsync("Bearer " + issued.Key, Ct)).Principal.ShouldNotBeNull();

        var minted = await guard.MintTokenAsync(parent, new TokenSpec(), Ct);

        minted.Credential.ShouldNotBeNull().ParentId.ShouldBe(issued.KeyId);
        (await guard.Store.FindCredentialAsync(minted.Credential.Id, Ct)).ShouldNotBeNull().ParentId.ShouldBe(issued.KeyId);
    }

    /// <summary>
    /// Attack: an agent mints tokens in a loop; each is a stored credential and an audit record.
    /// Expected: past TokensPerAgentPerHour in an hour, 429 with cap token_mint_rate and a Retry-After until the oldest mint
    /// leaves the hour, audited as a throttled decision, and nothing stored; an hour later minting works again.
    /// </summary>
    [Fact]
    public async Task MintTokenAsync_PastTokensPerAgentPerHour_IsThrottledAndAudited_UntilTheHourPasses()
    {
        var clock = new ShiftedClock(Clock);
        var (guard, _, issued) = await GuardAsync(new GuardOptions { NodeId = "test", TokensPerAgentPerHour = 2 }, clock);
        var parent = (await guard.CheckKeyAsync("Bearer " + issued.Key, Ct)).Principal.ShouldNotBeNull();
        (await guard.MintTokenAsync(parent, new TokenSpec(), Ct)).Token.ShouldNotBeNull();
        clock.Offset = TimeSpan.FromMinutes(10);
        (await guard.MintTokenAsync(parent, new TokenSpec(), Ct)).Token.ShouldNotBeNull();
        var records = (await guard.Store.QueryAuditAsync(new AuditQuery { Limit = 1000 }, Ct)).Count;

        var third = await guard.MintTokenAsync(parent, new TokenSpec(), Ct);

        third.Token.ShouldBeNull();
        third.Status.ShouldBe(429);
        third.Cap.ShouldBe(CapNames.TokenMintRate);
        third.RetryAfterSeconds.ShouldNotBeNull().ShouldBeInRange(49 * 60, 50 * 60, "the first mint leaves the hour in 50 minutes");
        var audit = await guard.Store.QueryAuditAsync(new AuditQuery { Limit = 1000 }, Ct);
        audit.Count.ShouldBe(records + 1, "one decision record, and no token");
        var decision = audit.Single(e => e.Kind == AuditKinds.Decision);
        decision.Status.ShouldBe("throttled");
        decision.Data.ShouldContain("\"cap\":\"token_mint_rate\"");
        decision.Data.ShouldContain("\"action\":\"mint_token\"");

        clock.Offset = TimeSpan.FromMinutes(61);
        (await guard.MintTokenAsync(parent, new TokenSpec(), Ct)).Token.ShouldNotBeNull("the first mint has left the hour");
        (await guard.MintTokenAsync(parent, new TokenSpec(), Ct)).Status.ShouldBe(429, "the second is still in it");
    }

    [Fact]
    public async Task MintTokenAsync_RefusedForBadInput_DoesNotUseTheMintingCap()
    {
        var (guard, _, issued) = await GuardAsync(new GuardOptions { NodeId = "test", TokensPerAgentPerHour = 1 });
        var parent = (await guard.CheckKeyAsync("Bearer " + issued.Key, Ct)).Principal.ShouldNotBeNull();

        (await guard.MintTokenAsync(parent, new TokenSpec { TtlSeconds = 0 }, Ct)).Status.ShouldBe(400);
        (await guard.MintTokenAsync(parent, new TokenSpec { Profiles = ["bash"] }, Ct)).Status.ShouldBe(403);

        (await guard.MintTokenAsync(parent, new TokenSpec(), Ct)).Token.ShouldNotBeNull();
    }

    /// <summary>
    /// Attack: a mint naming 400,000 profiles the agent does not have. Before, it made one error per name, each quoting the
    /// agent's allow-list, in the answer and in the audited reason. Expected: one error and a small record; a list that
    /// names the agent's one profile a million times still mints a token for that profile, once.
    /// </summary>
    [Fact]
    public async Task MintTokenAsync_MoreProfilesThanTheAgentHas_IsOneError_AndTheRecordIsSmall()
    {
        var (guard, _, issued) = await GuardAsync();
        var parent = (await guard.CheckKeyAsync("Bearer " + issued.Key, Ct)).Principal.ShouldNotBeNull();
        var recordsBefore = (await guard.Store.QueryAuditAsync(new AuditQuery { Limit = 1000 }, Ct)).Count;

        var tooMany = await guard.MintTokenAsync(parent, new TokenSpec { Profiles = Enumerable.Range(0, 400_000).Select(i => $"profile-{i}").ToList() }, Ct);
        var repeated = await guard.MintTokenAsync(parent, new TokenSpec { Profiles = Enumerable.Repeat("python", 1_000_000).ToList() }, Ct);

        tooMany.Token.ShouldBeNull();
        tooMany.Status.ShouldBe(403, "asking for more than the agent has is a permission it lacks, as before");
        tooMany.Errors.ShouldNotBeNull().ShouldHaveSingleItem().Message.ShouldContain("names 400000 profiles");
        repeated.Token.ShouldNotBeNull();
        repeated.Credential.ShouldNotBeNull().Profiles.ShouldBe(["python"]);
        var audit = await guard.Store.QueryAuditAsync(new AuditQuery { Limit = 1000 }, Ct);
        audit.Count.ShouldBe(recordsBefore + 2, "the refused mint and the token");
        audit.Max(e => e.Data.Length).ShouldBeLessThan(4 * 1024);
    }

    /// <summary>
    /// Attack: an agent over its minting cap asks again and again. Every refusal was recorded; now the first
    /// <see cref="GuardOptions.RefusalsAuditedPerMinute"/> of a minute are, and the rest become one count record.
    /// </summary>
    [Fact]
    public async Task MintTokenAsync_RefusedPastRefusalsAuditedPerMinute_IsCounted_AndTheCountIsOneRecordAfterTheMinute()
    {
        var clock = new ShiftedClock(Clock);
        var (guard, _, issued) = await GuardAsync(new GuardOptions { NodeId = "test", TokensPerAgentPerHour = 1, RefusalsAuditedPerMinute = 3 }, clock);
        var parent = (await guard.CheckKeyAsync("Bearer " + issued.Key, Ct)).Principal.ShouldNotBeNull();
        (await guard.MintTokenAsync(parent, new TokenSpec(), Ct)).Token.ShouldNotBeNull();
        var recordsBefore = (await guard.Store.QueryAuditAsync(new AuditQuery { Limit = 1000 }, Ct)).Count;

        for (var i = 0; i < 10; i++)
        {
            (await guard.MintTokenAsync(parent, new TokenSpec(), Ct)).Status.ShouldBe(429);
        }

        (await guard.Store.QueryAuditAsync(new AuditQuery { Limit = 1000 }, Ct)).Count.ShouldBe(recordsBefore + 3, "three recorded one by one, seven counted");
        clock.Offset = TimeSpan.FromSeconds(61);
        await guard.Guard.Refusals.FlushAsync(Ct);
        var audit = await guard.Store.QueryAuditAsync(new AuditQuery { Limit = 1000 }, Ct);
        audit.Count.ShouldBe(recordsBefore + 4);
        var count = audit.Single(e => e.Status == "suppressed");
        count.Kind.ShouldBe(AuditKinds.Decision);
        count.AgentId.ShouldBe(issued.Agent.Id);
        count.Data.ShouldContain("\"count\":7");
        count.Data.ShouldContain("\"cap_exceeded:token_mint_rate\":7");
    }

    [Fact]
    public async Task MintTokenAsync_TheRefusalsCountCannotBeWritten_IsStillAnswered429()
    {
        // The count of a minute's unrecorded refusals is written before the next refusal; a store refusing that write used to
        // throw out of the mint (a 503 for a caller who should hear 429), while a refused run was answered all the same.
        var clock = new ShiftedClock(Clock);
        var (guard, _, issued) = await GuardAsync(new GuardOptions { NodeId = "test", TokensPerAgentPerHour = 1, RefusalsAuditedPerMinute = 1 }, clock);
        var parent = (await guard.CheckKeyAsync("Bearer " + issued.Key, Ct)).Principal.ShouldNotBeNull();
        (await guard.MintTokenAsync(parent, new TokenSpec(), Ct)).Token.ShouldNotBeNull();
        for (var i = 0; i < 3; i++)
        {
            (await guard.MintTokenAsync(parent, new TokenSpec(), Ct)).Status.ShouldBe(429);
        }

        // As a full disk would refuse it (SQLite's own message), for the count's record alone.
        await RawAsync("CREATE TRIGGER count_full BEFORE INSERT ON audit WHEN NEW.status = 'suppressed' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;");
        clock.Offset = TimeSpan.FromSeconds(61);

        (await guard.MintTokenAsync(parent, new TokenSpec(), Ct)).Status.ShouldBe(429);
        (await guard.Store.QueryAuditAsync(new AuditQuery { Limit = 1000 }, Ct)).Count(e => e.Status == "throttled").ShouldBe(2, "the new minute's first refusal is recorded");
    }

    private async Task<(PolicyHarness Guard, AgentAdmin Admin, IssuedKey Issued)> GuardAsync(GuardOptions? options = null, TimeProvider? clock = null)
    {
        var store = await OpenAsync();
        var admin = new AgentAdmin(store, Clock);
        var issued = (await admin.CreateAsync(new AgentSpec { Name = "token-bot", Profiles = ["python"] }, "test", Ct)).Value.ShouldNotBeNull();
        var guard = new PolicyHarness(store, options ?? new GuardOptions { NodeId = "test" }, clock ?? Clock);
        return (guard, admin, issued);
    }

    /// <summary>The test's clock moved on by <see cref="Offset"/>, so an hour can pass in a test.</summary>
    private sealed class ShiftedClock(TimeProvider inner) : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + Offset;
    }

    private static async Task<string> MintAsync(PolicyHarness guard, string key)
    {
        var parent = (await guard.CheckKeyAsync("Bearer " + key, Ct)).Principal.ShouldNotBeNull();
        return (await guard.MintTokenAsync(parent, new TokenSpec(), Ct)).Token.ShouldNotBeNull();
    }
}
