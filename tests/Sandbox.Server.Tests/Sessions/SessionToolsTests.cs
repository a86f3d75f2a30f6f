using System.Text.Json;
using Sandbox.Server.Sessions;

namespace Sandbox.Server.Tests.Sessions;

public sealed class SessionToolsTests
{
    private static Dictionary<string, JsonElement> Arguments(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    [Fact]
    public void Split_SessionGiven_IsTakenOutAndTheRestIsTheRunRequest()
    {
        var (session, others, error) = SessionTools.Split(Arguments("""{"language":"python","code":"x","session":"ses_1"}"""));

        session.ShouldBe("ses_1");
        error.ShouldBeNull();
        others!.Keys.ShouldBe(["language", "code"], ignoreOrder: true);
    }

    [Fact]
    public void Split_SessionNotAString_IsAnErrorNamingIt()
    {
        var (session, _, error) = SessionTools.Split(Arguments("""{"language":"python","code":"x","session":7}"""));

        session.ShouldBeNull();
        error.ShouldNotBeNull().Field.ShouldBe("session");
    }

    [Fact]
    public void Split_NoSession_LeavesTheArgumentsAlone()
    {
        var arguments = Arguments("""{"language":"python","code":"x"}""");

        SessionTools.Split(arguments).ShouldBe((null, arguments, null));
    }
}
