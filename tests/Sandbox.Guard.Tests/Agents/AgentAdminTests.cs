using Sandbox.Guard.Agents;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Tests.Store;

namespace Sandbox.Guard.Tests.Agents;

/// <summary>The session budgets an operator sets on an agent (memory, open count): validated by field, stored, and described in the audit record.</summary>
public sealed class AgentAdminTests : TempDatabase
{
    [Theory]
    [InlineData(-1)]
    [InlineData(AgentAdmin.MaxSessionMemoryMbLimit + 1)]
    public async Task CreateAsync_SessionMemoryOutOfRange_IsInvalidNamingTheField(int mb)
    {
        var admin = new AgentAdmin(await OpenAsync(), Clock);

        var result = await admin.CreateAsync(new AgentSpec { Name = "mem", Profiles = ["python"], MaxSessionMemoryMb = mb }, "test", Ct);

        result.Ok.ShouldBeFalse();
        result.Errors.ShouldNotBeNull().Select(e => e.Field).ShouldBe(["maxSessionMemoryMb"]);
    }

    [Fact]
    public async Task CreateAsync_SessionMemoryGiven_StoredAndAudited()
    {
        var store = await OpenAsync();
        var admin = new AgentAdmin(store, Clock);

        var created = await admin.CreateAsync(new AgentSpec { Name = "mem", Profiles = ["python"], MaxSessionMemoryMb = 512 }, "test", Ct);

        created.Value.ShouldNotBeNull().Agent.MaxSessionMemoryMb.ShouldBe(512);
        (await store.FindAgentAsync("mem", Ct)).ShouldNotBeNull().MaxSessionMemoryMb.ShouldBe(512);
        var record = (await store.QueryAuditAsync(new AuditQuery { Kind = AuditKinds.Admin }, Ct)).ShouldHaveSingleItem();
        record.Data.ShouldContain("\"maxSessionMemoryMb\":512");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(AgentAdmin.MaxOpenSessionsLimit + 1)]
    public async Task CreateAsync_OpenSessionsOutOfRange_IsInvalidNamingTheField(int count)
    {
        var admin = new AgentAdmin(await OpenAsync(), Clock);

        var result = await admin.CreateAsync(new AgentSpec { Name = "count", Profiles = ["python"], MaxOpenSessions = count }, "test", Ct);

        result.Ok.ShouldBeFalse();
        result.Errors.ShouldNotBeNull().Select(e => e.Field).ShouldBe(["maxOpenSessions"]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    public async Task CreateAsync_OpenSessionsGiven_StoredAndAudited(int count)
    {
        var store = await OpenAsync();
        var admin = new AgentAdmin(store, Clock);

        var created = await admin.CreateAsync(new AgentSpec { Name = "count", Profiles = ["python"], MaxOpenSessions = count }, "test", Ct);

        created.Value.ShouldNotBeNull().Agent.MaxOpenSessions.ShouldBe(count);
        (await store.FindAgentAsync("count", Ct)).ShouldNotBeNull().MaxOpenSessions.ShouldBe(count);
        var record = (await store.QueryAuditAsync(new AuditQuery { Kind = AuditKinds.Admin }, Ct)).ShouldHaveSingleItem();
        record.Data.ShouldContain($"\"maxOpenSessions\":{count}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(AgentAdmin.DailyStoredMbLimit + 1)]
    public async Task CreateAsync_DailyStoredMbOutOfRange_IsInvalidNamingTheField(int mb)
    {
        var admin = new AgentAdmin(await OpenAsync(), Clock);

        var result = await admin.CreateAsync(new AgentSpec { Name = "stored", Profiles = ["python"], DailyStoredMb = mb }, "test", Ct);

        result.Ok.ShouldBeFalse();
        result.Errors.ShouldNotBeNull().Select(e => e.Field).ShouldBe(["dailyStoredMb"]);
    }

    [Fact]
    public async Task CreateAsync_DailyStoredMb_StoredAudited_AndDefaultsTo1024()
    {
        var store = await OpenAsync();
        var admin = new AgentAdmin(store, Clock);

        (await admin.CreateAsync(new AgentSpec { Name = "stored", Profiles = ["python"], DailyStoredMb = 50 }, "test", Ct)).Value.ShouldNotBeNull();
        var plain = await admin.CreateAsync(new AgentSpec { Name = "plain", Profiles = ["python"] }, "test", Ct);

        (await store.FindAgentAsync("stored", Ct)).ShouldNotBeNull().DailyStoredMb.ShouldBe(50);
        plain.Value.ShouldNotBeNull().Agent.DailyStoredMb.ShouldBe(1024);
        (await store.QueryAuditAsync(new AuditQuery { Kind = AuditKinds.Admin }, Ct)).ShouldContain(r => r.Data.Contains("\"dailyStoredMb\":50"));
    }

    [Fact]
    public async Task CreateAsync_OpenSessionsNotNamed_IsTheDefaultOfFour()
    {
        var admin = new AgentAdmin(await OpenAsync(), Clock);

        var created = await admin.CreateAsync(new AgentSpec { Name = "plain", Profiles = ["python"] }, "test", Ct);

        created.Value.ShouldNotBeNull().Agent.MaxOpenSessions.ShouldBe(4);
    }
}
