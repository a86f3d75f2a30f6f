using Sandbox.Guard.Agents;

namespace Sandbox.Guard.Tests.Agents;

public sealed class AgentKeysTests
{
    [Fact]
    public void Generate_ParsesBackAndMatchesOnlyItsOwnHash()
    {
        var (plain, id, hash) = AgentKeys.Generate(CredentialKind.AgentKey);
        plain.ShouldStartWith("sbxa_");

        var parsed = AgentKeys.TryParse(plain, out var problem);
        problem.ShouldBeNull();
        parsed!.Kind.ShouldBe(CredentialKind.AgentKey);
        parsed.Id.ShouldBe(id);

        var stored = new Credential { Id = id, AgentId = "agt_x", Kind = CredentialKind.AgentKey, SecretSha256 = hash, CreatedAt = default, ExpiresAt = default };
        AgentKeys.Matches(parsed, stored).ShouldBeTrue();

        var (_, _, otherHash) = AgentKeys.Generate(CredentialKind.AgentKey);
        AgentKeys.Matches(parsed, stored with { SecretSha256 = otherHash }).ShouldBeFalse();
    }

    [Fact]
    public void Generate_TaskTokensHaveTheirOwnPrefix() =>
        AgentKeys.Generate(CredentialKind.TaskToken).PlainKey.ShouldStartWith("sbxt_");

    [Fact]
    public void Generate_NeverRepeats() =>
        Enumerable.Range(0, 100).Select(_ => AgentKeys.Generate(CredentialKind.AgentKey).PlainKey).Distinct().Count().ShouldBe(100);

    [Theory]
    [InlineData("", "does not start with")]
    [InlineData("Bearer sbxa_x", "does not start with")]
    [InlineData("sbxa_", "malformed")]
    [InlineData("sbxa_0123456789ab_short", "malformed")]
    [InlineData("sbxa_0123456789AB_0000000000000000000000000000000000000000000000000000000000000000", "malformed")]
    [InlineData("sbxa_0123456789ab-0000000000000000000000000000000000000000000000000000000000000000", "malformed")]
    public void TryParse_NamesWhatIsWrong(string presented, string expected)
    {
        AgentKeys.TryParse(presented, out var problem).ShouldBeNull();
        problem.ShouldNotBeNull().ShouldContain(expected);
    }
}
