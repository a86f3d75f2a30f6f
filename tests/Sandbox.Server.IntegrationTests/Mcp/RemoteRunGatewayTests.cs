using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Server.Mcp;

namespace Sandbox.Server.IntegrationTests.Mcp;

/// <summary>
/// <c>sandbox mcp --url</c>'s gateway against the real HTTP service (in-process through WebApplicationFactory,
/// real Docker backend): the two sides agree on the wire format of runs, languages and problems.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RemoteRunGatewayTests(SandboxApiFactory factory) : IClassFixture<SandboxApiFactory>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private RemoteRunGateway Gateway()
    {
        var client = factory.CreateClient();
        return new RemoteRunGateway(client, client.BaseAddress!, apiKey: null, TimeProvider.System);
    }

    [Fact]
    public async Task RunAsync_PythonPrintsTwo_ReadsTheCompletedRun()
    {
        using var gateway = Gateway();

        var answer = await gateway.RunAsync(new RunRequest { Language = "python", Code = "print(1+1)", Purpose = "remote gateway test" }, Token);

        answer.Problem.ShouldBeNull();
        var run = answer.Run.ShouldNotBeNull();
        run.State.ShouldBe("completed");
        run.Result!.Status.ShouldBe(RunStatus.Ok, run.Result.Message);
        run.Result.Stdout.ShouldBe("2\n");
        run.Result.Limits!.WallTimeMs.ShouldBeGreaterThan(0);

        var again = await gateway.GetRunAsync(run.Id, Token);
        again.Run!.Result!.Stdout.ShouldBe("2\n");
    }

    [Fact]
    public async Task RunAsync_LimitAboveTheProfile_IsRejectedNamingTheField()
    {
        using var gateway = Gateway();

        var answer = await gateway.RunAsync(new RunRequest
        {
            Language = "python",
            Code = "print(1)",
            Limits = new LimitOverrides { WallTimeMs = 10_000_000 },
        }, Token);

        var problem = answer.Problem.ShouldNotBeNull();
        problem.Status.ShouldBe(403, "more than the profile allows is a permission the key lacks, not a typo");
        problem.Code.ShouldBe("rejected");
        problem.Errors!.Select(e => e.Field).ShouldContain("limits.wallTimeMs");
    }

    [Fact]
    public async Task GetRunAsync_UnknownId_IsNotFound()
    {
        using var gateway = Gateway();

        var problem = (await gateway.GetRunAsync("run_00000000000000000000000000000000", Token)).Problem.ShouldNotBeNull();

        problem.Status.ShouldBe(404);
        problem.Code.ShouldBe("run_not_found");
    }

    [Fact]
    public async Task ListLanguagesAsync_HasPythonWithItsLimits()
    {
        using var gateway = Gateway();

        var languages = await gateway.ListLanguagesAsync(Token);

        var python = languages.Single(l => l.Language == "python");
        python.Profiles.ShouldContain("python-gvisor");
        python.Limits.MemoryBytes.ShouldBeGreaterThan(0);
    }
}
