using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Errors;
using Sandbox.Core.Execution;
using Sandbox.Core.Runs;
using Sandbox.Core.Tests.Support;

namespace Sandbox.Core.Tests.Execution;

public sealed class RunPipelineTests
{
    private sealed class FakeBackend(Func<RunPlan, RunResult> run) : IExecutionBackend
    {
        public List<RunPlan> Plans { get; } = [];

        public string Name => "docker";

        public Task<RunResult> ExecuteAsync(RunPlan plan, CancellationToken cancellationToken)
        {
            Plans.Add(plan);
            return Task.FromResult(run(plan));
        }
    }

    private static RunPipeline Pipeline(params IExecutionBackend[] backends) =>
        new(Some.Profiles(), backends, TimeProvider.System, NullLogger<RunPipeline>.Instance);

    [Fact]
    public async Task RunAsync_InvalidRequest_IsRejectedAndNothingRuns()
    {
        var backend = new FakeBackend(_ => throw new InvalidOperationException("must not run"));

        var result = await Pipeline(backend).RunAsync(Some.Request(""), TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.Rejected);
        result.Errors.ShouldNotBeNull().ShouldContain(e => e.Field == "code");
        result.Message.ShouldNotBeNull().ShouldContain("code");
        backend.Plans.ShouldBeEmpty();
    }

    [Fact]
    public async Task RunAsync_ValidRequest_ReportsEffectiveLimitsProfileAndBackend()
    {
        var backend = new FakeBackend(p => new RunResult { RunId = p.RunId, Status = RunStatus.Ok, ExitCode = 0 });

        var result = await Pipeline(backend).RunAsync(Some.Request(), TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.Ok);
        result.Limits.ShouldBe(Some.Limits());
        result.Profile.ShouldBe("python");
        result.Backend.ShouldBe("docker");
        result.Runtime.ShouldBe("runc");
        result.RunId.ShouldStartWith("run_");
        backend.Plans.ShouldHaveSingleItem().RunId.ShouldBe(result.RunId);
    }

    [Fact]
    public async Task RunAsync_InfrastructureFailure_IsSandboxErrorWithTheMessage()
    {
        var backend = new FakeBackend(_ => throw new SandboxInfrastructureException("Docker is not reachable"));

        var result = await Pipeline(backend).RunAsync(Some.Request(), TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.SandboxError);
        result.Message.ShouldBe("Docker is not reachable");
    }

    [Fact]
    public async Task RunAsync_BackendMissing_IsSandboxError()
    {
        var result = await Pipeline().RunAsync(Some.Request(), TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.SandboxError);
        result.Message.ShouldNotBeNull().ShouldContain("not available");
    }

    [Fact]
    public void NewRunId_IsUniqueAndTimeOrdered()
    {
        var pipeline = Pipeline();

        var ids = Enumerable.Range(0, 100).Select(_ => pipeline.NewRunId()).ToList();

        ids.Distinct().Count().ShouldBe(100);
    }

    private sealed class DaemonFailure() : SandboxInfrastructureException("POST /containers/create rejected the container spec for image 'sandbox/python:latest' (daemon said: Minimum memory limit allowed is 6MB); register that runtime in /etc/docker/daemon.json")
    {
        public override string ResultMessage => "sandbox_error: the container backend could not run this program";
    }

    private sealed class MinimumBackend(BackendMinimums minimums) : IExecutionBackend
    {
        public string Name => "docker";

        public BackendMinimums MinimumsFor(Sandbox.Core.Profiles.Profile profile) => minimums;

        public Task<RunResult> ExecuteAsync(RunPlan plan, CancellationToken cancellationToken) => throw new InvalidOperationException("must not run");
    }

    [Fact]
    public async Task RunAsync_InfrastructureFailure_KeepsOperatorDetailsOutOfTheResult()
    {
        var backend = new FakeBackend(_ => throw new DaemonFailure());

        var result = await Pipeline(backend).RunAsync(Some.Request(), TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.SandboxError);
        result.Message.ShouldBe("sandbox_error: the container backend could not run this program");
    }

    [Fact]
    public async Task RunAsync_MemoryBelowTheBackendsMinimum_IsRejectedAndNothingRuns()
    {
        var backend = new MinimumBackend(new BackendMinimums { MemoryBytes = 6L * 1024 * 1024 });

        var result = await Pipeline(backend).RunAsync(
            Some.Request() with { Limits = new Sandbox.Core.Limits.LimitOverrides { MemoryBytes = 4L * 1024 * 1024 } },
            TestContext.Current.CancellationToken);

        result.Status.ShouldBe(RunStatus.Rejected);
        result.Errors.ShouldNotBeNull().ShouldHaveSingleItem().Field.ShouldBe("limits.memoryBytes");
    }

    [Fact]
    public void Constructor_ProfileBelowTheBackendsMinimum_StopsStartUpNamingTheField()
    {
        var backend = new MinimumBackend(new BackendMinimums { MemoryBytes = 1024L * 1024 * 1024 });

        var error = Should.Throw<Sandbox.Core.Profiles.ProfileConfigurationException>(() => Pipeline(backend));

        error.Errors.ShouldHaveSingleItem().Field.ShouldBe("profiles.python.limits.memoryBytes");
    }
}
