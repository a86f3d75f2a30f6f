using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Guard.Tests.Store;

namespace Sandbox.Guard.Tests.Policy;

/// <summary>A task token is tied to the agent key that minted it, against a real store.</summary>
public sealed class RunGuardTokenTests : TempDatabase
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

    private async Task<(RunGuard Guard, AgentAdmin Admin, IssuedKey Issued)> GuardAsync()
    {
        var store = await OpenAsync();
        var admin = new AgentAdmin(store, Clock);
        var issued = (await admin.CreateAsync(new AgentSpec { Name = "token-bot", Profiles = ["python"] }, "test", Ct)).Value.ShouldNotBeNull();
        var guard = new RunGuard(store, new GuardOptions { NodeId = "test" }, NullAlertSink.Instance, Clock, NullLogger<RunGuard>.Instance);
        return (guard, admin, issued);
    }

    private static async Task<string> MintAsync(RunGuard guard, string key)
    {
        var parent = (await guard.CheckKeyAsync("Bearer " + key, Ct)).Principal.ShouldNotBeNull();
        return (await guard.MintTokenAsync(parent, new TokenSpec(), Ct)).Token.ShouldNotBeNull();
    }
}
