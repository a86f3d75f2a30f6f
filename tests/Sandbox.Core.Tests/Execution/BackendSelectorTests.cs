using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Core.Execution;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Core.Tests.Support;

namespace Sandbox.Core.Tests.Execution;

public sealed class BackendSelectorTests
{
    private sealed class FakeBackend(string name) : IExecutionBackend
    {
        public List<RunPlan> Plans { get; } = [];

        public string Name => name;

        public Task<RunResult> ExecuteAsync(RunPlan plan, CancellationToken cancellationToken)
        {
            Plans.Add(plan);
            return Task.FromResult(new RunResult { RunId = plan.RunId, Status = RunStatus.Ok, ExitCode = 0 });
        }
    }

    private static ProfileSet WithPythonWasm() => Some.Profiles(("python-wasm", Some.WasmProfile("python")));

    [Fact]
    public void ForBackend_DefaultUsesTheBackend_ReturnsTheDefault()
    {
        BackendSelector.ForBackend(WithPythonWasm(), "python", BackendNames.Docker).ShouldNotBeNull().Name.ShouldBe("python");
    }

    [Fact]
    public void ForBackend_WasmProfileExists_ReturnsLanguageDashWasm()
    {
        BackendSelector.ForBackend(WithPythonWasm(), "python", BackendNames.Wasm).ShouldNotBeNull().Name.ShouldBe("python-wasm");
    }

    [Fact]
    public void ForBackend_NoWasmProfile_ReturnsNull()
    {
        BackendSelector.ForBackend(Some.Profiles(), "python", BackendNames.Wasm).ShouldBeNull();
    }

    [Fact]
    public void Plan_ForcedWasmWithoutProfile_RejectsNamingTheMissingProfile()
    {
        var (plan, errors) = RunRequestValidator.Plan(Some.Request() with { Backend = BackendNames.Wasm }, Some.Profiles(), "run_1");

        plan.ShouldBeNull();
        errors.ShouldHaveSingleItem().Field.ShouldBe("backend");
        errors[0].Message.ShouldContain("python-wasm");
    }

    [Fact]
    public void Plan_UnknownBackend_Rejects()
    {
        var (plan, errors) = RunRequestValidator.Plan(Some.Request() with { Backend = "kvm" }, Some.Profiles(), "run_1");

        plan.ShouldBeNull();
        errors.ShouldHaveSingleItem().Field.ShouldBe("backend");
    }

    [Fact]
    public async Task RunAsync_ForcedWasm_RunsTheWasmProfileOnTheWasmBackend()
    {
        var docker = new FakeBackend(BackendNames.Docker);
        var wasm = new FakeBackend(BackendNames.Wasm);
        var pipeline = new RunPipeline(WithPythonWasm(), [docker, wasm], TimeProvider.System, NullLogger<RunPipeline>.Instance);

        var result = await pipeline.RunAsync(Some.Request() with { Backend = BackendNames.Wasm }, TestContext.Current.CancellationToken);

        result.Profile.ShouldBe("python-wasm");
        result.Backend.ShouldBe(BackendNames.Wasm);
        docker.Plans.ShouldBeEmpty();
    }

    [Fact]
    public async Task RunAsync_DockerUnavailableAndWasmProfileExists_FallsBackToWasm()
    {
        var docker = new FakeBackend(BackendNames.Docker);
        var wasm = new FakeBackend(BackendNames.Wasm);
        var pipeline = new RunPipeline(WithPythonWasm(), [docker, wasm], TimeProvider.System, NullLogger<RunPipeline>.Instance);
        pipeline.MarkUnavailable(BackendNames.Docker);

        var result = await pipeline.RunAsync(Some.Request(), TestContext.Current.CancellationToken);

        result.Backend.ShouldBe(BackendNames.Wasm);
        result.Profile.ShouldBe("python-wasm");
        wasm.Plans.ShouldHaveSingleItem().Limits.ShouldBe(Some.Limits());
        docker.Plans.ShouldBeEmpty();
    }

    [Fact]
    public void PlanForRun_DockerUnavailableAndCallerMayUseTheWasmProfile_FallsBack()
    {
        var pipeline = new RunPipeline(WithPythonWasm(), [new FakeBackend(BackendNames.Docker), new FakeBackend(BackendNames.Wasm)], TimeProvider.System, NullLogger<RunPipeline>.Instance);
        pipeline.MarkUnavailable(BackendNames.Docker);

        var (plan, errors) = pipeline.PlanForRun(Some.Request(), "run_1", mayUse: p => p is "python" or "python-wasm");

        errors.ShouldBeEmpty();
        plan.ShouldNotBeNull().Profile.Name.ShouldBe("python-wasm");
    }

    /// <summary>
    /// A key allowed only <c>python</c>: moving its run to <c>python-wasm</c> had the guard refuse it as off the allow-list,
    /// which told the caller nothing about Docker. The plan stays on Docker, whose answer says the backend is unavailable.
    /// </summary>
    [Fact]
    public void PlanForRun_DockerUnavailableAndCallerMayNotUseTheWasmProfile_StaysOnDocker()
    {
        var pipeline = new RunPipeline(WithPythonWasm(), [new FakeBackend(BackendNames.Docker), new FakeBackend(BackendNames.Wasm)], TimeProvider.System, NullLogger<RunPipeline>.Instance);
        pipeline.MarkUnavailable(BackendNames.Docker);

        var (plan, errors) = pipeline.PlanForRun(Some.Request(), "run_1", mayUse: p => p == "python");

        errors.ShouldBeEmpty();
        plan.ShouldNotBeNull().Profile.Name.ShouldBe("python");
        plan.Backend.ShouldBe(BackendNames.Docker);
    }

    [Fact]
    public async Task RunAsync_DockerUnavailableAndNoWasmProfile_StaysOnDocker()
    {
        var docker = new FakeBackend(BackendNames.Docker);
        var pipeline = new RunPipeline(Some.Profiles(), [docker], TimeProvider.System, NullLogger<RunPipeline>.Instance);
        pipeline.MarkUnavailable(BackendNames.Docker);

        var result = await pipeline.RunAsync(Some.Request(), TestContext.Current.CancellationToken);

        result.Backend.ShouldBe(BackendNames.Docker);
        docker.Plans.ShouldHaveSingleItem();
    }

    [Fact]
    public async Task RunAsync_DockerUnavailableButProfileNamed_DoesNotFallBack()
    {
        var docker = new FakeBackend(BackendNames.Docker);
        var wasm = new FakeBackend(BackendNames.Wasm);
        var pipeline = new RunPipeline(WithPythonWasm(), [docker, wasm], TimeProvider.System, NullLogger<RunPipeline>.Instance);
        pipeline.MarkUnavailable(BackendNames.Docker);

        var result = await pipeline.RunAsync(Some.Request() with { Profile = "python" }, TestContext.Current.CancellationToken);

        result.Backend.ShouldBe(BackendNames.Docker);
        wasm.Plans.ShouldBeEmpty();
    }

    [Fact]
    public async Task RunAsync_DockerAvailable_KeepsTheDefault()
    {
        var docker = new FakeBackend(BackendNames.Docker);
        var wasm = new FakeBackend(BackendNames.Wasm);
        var pipeline = new RunPipeline(WithPythonWasm(), [docker, wasm], TimeProvider.System, NullLogger<RunPipeline>.Instance);

        var result = await pipeline.RunAsync(Some.Request(), TestContext.Current.CancellationToken);

        result.Backend.ShouldBe(BackendNames.Docker);
        wasm.Plans.ShouldBeEmpty();
    }
}
