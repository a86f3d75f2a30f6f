using Polly.CircuitBreaker;
using Sandbox.Docker.Client;
using Sandbox.Docker.Tests.Support;

namespace Sandbox.Docker.Resilience.Tests;

// DockerOperation is internal and xunit test methods are public, so theories name operations as strings.
public sealed class DockerResiliencePipelinesTests
{
    private static readonly DockerResilienceOptions s_noDelay = new()
    {
        MaxRetryAttempts = 3,
        RetryBaseDelay = TimeSpan.Zero,
        RetryMaxDelay = TimeSpan.Zero,
        // High enough that retry tests never trip the breaker.
        BreakerMinimumThroughput = 100,
    };

    private static readonly DockerResilienceOptions s_tripsAfterTwo = new()
    {
        MaxRetryAttempts = 0,
        BreakerFailureRatio = 0.5,
        BreakerMinimumThroughput = 2,
        BreakerSamplingDuration = TimeSpan.FromSeconds(30),
        BreakerBreakDuration = TimeSpan.FromSeconds(10),
    };

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(nameof(DockerOperation.Ping))]
    [InlineData(nameof(DockerOperation.Version))]
    [InlineData(nameof(DockerOperation.Info))]
    [InlineData(nameof(DockerOperation.InspectContainer))]
    [InlineData(nameof(DockerOperation.ListContainers))]
    [InlineData(nameof(DockerOperation.InspectImage))]
    [InlineData(nameof(DockerOperation.KillContainer))]
    [InlineData(nameof(DockerOperation.RemoveContainer))]
    public async Task SafeCall_TransientErrorEveryTime_IsRetriedThenThrows(string name)
    {
        DockerOperation operation = Enum.Parse<DockerOperation>(name);
        var fake = new FakeDockerClient();
        fake.FailWith(Unavailable);
        var client = new ResilientDockerClient(fake, s_noDelay, TimeProvider.System);

        var ex = await Should.ThrowAsync<DockerUnavailableException>(() => Call(client, operation));

        fake.Calls(operation).ShouldBe(1 + s_noDelay.MaxRetryAttempts);
        ex.Endpoint.ShouldBe(operation.Endpoint());
    }

    [Theory]
    [InlineData(nameof(DockerOperation.CreateContainer))]
    [InlineData(nameof(DockerOperation.StartContainer))]
    [InlineData(nameof(DockerOperation.AttachContainer))]
    [InlineData(nameof(DockerOperation.WaitContainer))]
    public async Task UnsafeCall_TransientError_IsNeverRetried(string name)
    {
        DockerOperation operation = Enum.Parse<DockerOperation>(name);
        var fake = new FakeDockerClient();
        fake.FailWith(Unavailable);
        var client = new ResilientDockerClient(fake, s_noDelay, TimeProvider.System);

        await Should.ThrowAsync<DockerUnavailableException>(() => Call(client, operation));

        fake.Calls(operation).ShouldBe(1);
    }

    [Fact]
    public async Task SafeCall_TransientTwiceThenAnswer_Succeeds()
    {
        int attempts = 0;
        var fake = new FakeDockerClient
        {
            Behavior = (op, _) => ++attempts <= 2 ? Task.FromException(Unavailable(op)) : Task.CompletedTask,
        };
        var client = new ResilientDockerClient(fake, s_noDelay, TimeProvider.System);

        IReadOnlyList<ContainerSummary> list = await client.ListContainersAsync(["sandbox.test=1"], Token);

        list.ShouldHaveSingleItem().Id.ShouldBe("c0ffee");
        fake.Calls(DockerOperation.ListContainers).ShouldBe(3);
    }

    [Fact]
    public async Task SafeCall_NonTransientError_IsNotRetriedAndKeepsItsType()
    {
        var fake = new FakeDockerClient();
        fake.FailWith(op => new DockerNotFoundException("gone", op.Endpoint(), "No such container"));
        var client = new ResilientDockerClient(fake, s_noDelay, TimeProvider.System);

        var ex = await Should.ThrowAsync<DockerNotFoundException>(() => client.InspectContainerAsync("abc", Token));

        ex.DaemonMessage.ShouldBe("No such container");
        fake.Calls(DockerOperation.InspectContainer).ShouldBe(1);
    }

    [Fact]
    public async Task Remove_ConflictWithTheContainersExit_IsRetriedUntilItSettles()
    {
        int attempts = 0;
        var fake = new FakeDockerClient
        {
            Behavior = (op, _) => ++attempts <= 2 ? Task.FromException(ExitUnderWay(op)) : Task.CompletedTask,
        };
        var client = new ResilientDockerClient(fake, s_noDelay, TimeProvider.System);

        await client.RemoveContainerAsync("abc", Token);

        fake.Calls(DockerOperation.RemoveContainer).ShouldBe(3);
    }

    [Fact]
    public async Task Kill_Conflict_IsNotRetried()
    {
        var fake = new FakeDockerClient();
        fake.FailWith(ExitUnderWay);
        var client = new ResilientDockerClient(fake, s_noDelay, TimeProvider.System);

        await Should.ThrowAsync<DockerConflictException>(() => client.KillContainerAsync("abc", "SIGKILL", Token));

        fake.Calls(DockerOperation.KillContainer).ShouldBe(1);
    }

    [Fact]
    public async Task Remove_ConflictsEveryTime_NeverOpenTheCircuit()
    {
        var fake = new FakeDockerClient
        {
            Behavior = (op, _) => op == DockerOperation.RemoveContainer ? Task.FromException(ExitUnderWay(op)) : Task.CompletedTask,
        };
        var client = new ResilientDockerClient(fake, s_tripsAfterTwo with { MaxRetryAttempts = 1, RetryBaseDelay = TimeSpan.Zero }, TimeProvider.System);

        for (var i = 0; i < 4; i++)
        {
            await Should.ThrowAsync<DockerConflictException>(() => client.RemoveContainerAsync("abc", Token));
        }

        // The daemon answered every call: a ping still goes through.
        await client.PingAsync(Token);
        fake.Calls(DockerOperation.RemoveContainer).ShouldBe(8);
    }

    [Fact]
    public async Task SafeCall_TransientBySubtypeOnly_RetryTestsPropertyNotMessage()
    {
        // Same words as a connection error, but not transient: must not be retried.
        var fake = new FakeDockerClient();
        fake.FailWith(op => new DockerException("cannot reach the Docker daemon: connection refused", op.Endpoint(), 500));
        var client = new ResilientDockerClient(fake, s_noDelay, TimeProvider.System);

        await Should.ThrowAsync<DockerException>(() => client.PingAsync(Token));

        fake.Calls(DockerOperation.Ping).ShouldBe(1);
    }

    [Fact]
    public async Task SafeCall_AttemptHangs_TimesOutRetriesAndThrowsUnavailable()
    {
        var fake = new FakeDockerClient { Behavior = (_, ct) => Task.Delay(Timeout.Infinite, ct) };
        var options = s_noDelay with { CallTimeout = TimeSpan.FromMilliseconds(50), MaxRetryAttempts = 2 };
        var client = new ResilientDockerClient(fake, options, TimeProvider.System);

        var ex = await Should.ThrowAsync<DockerUnavailableException>(() => client.GetInfoAsync(Token));

        ex.Message.ShouldContain("did not answer GET /info within 0.05 s");
        ex.IsTransient.ShouldBeTrue();
        fake.Calls(DockerOperation.Info).ShouldBe(3);
    }

    [Fact]
    public async Task Wait_LongerThanCallTimeout_IsNotTimedOut()
    {
        var fake = new FakeDockerClient { Behavior = (_, ct) => Task.Delay(300, ct) };
        var client = new ResilientDockerClient(fake, s_noDelay with { CallTimeout = TimeSpan.FromMilliseconds(50) }, TimeProvider.System);

        ContainerWaitResponse exit = await client.WaitContainerAsync("abc", Token);

        exit.StatusCode.ShouldBe(3);
    }

    [Fact]
    public async Task Wait_CallerCancels_PropagatesCancellation()
    {
        var fake = new FakeDockerClient { Behavior = (_, ct) => Task.Delay(Timeout.Infinite, ct) };
        var client = new ResilientDockerClient(fake, s_noDelay, TimeProvider.System);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        await Should.ThrowAsync<OperationCanceledException>(() => client.WaitContainerAsync("abc", cancel.Token));
    }

    [Fact]
    public async Task Circuit_DockerDown_OpensAndFailsFastWithoutCallingDocker()
    {
        var time = new FakeTimeProvider();
        var fake = new FakeDockerClient();
        fake.FailWith(Unavailable);
        var pipelines = new DockerResiliencePipelines(s_tripsAfterTwo, time);
        var client = new ResilientDockerClient(fake, pipelines);
        await Should.ThrowAsync<DockerUnavailableException>(() => client.PingAsync(Token));
        time.Advance(TimeSpan.FromSeconds(7));
        await Should.ThrowAsync<DockerUnavailableException>(() => client.PingAsync(Token));
        int callsWhenOpened = fake.TotalCalls;

        var ping = await Should.ThrowAsync<DockerUnavailableException>(() => client.PingAsync(Token));
        var create = await Should.ThrowAsync<DockerUnavailableException>(
            () => client.CreateContainerAsync(new ContainerCreateRequest { Image = "x", HostConfig = new HostConfig() }, null, Token));
        var wait = await Should.ThrowAsync<DockerUnavailableException>(() => client.WaitContainerAsync("abc", Token));

        pipelines.CircuitState.ShouldBe(CircuitState.Open);
        fake.TotalCalls.ShouldBe(callsWhenOpened);
        ping.Message.ShouldStartWith("circuit open: Docker has not answered for 7 s");
        ping.InnerException.ShouldBeOfType<BrokenCircuitException>();
        create.Endpoint.ShouldBe("POST /containers/create");
        wait.Message.ShouldContain("circuit open");
        ping.IsTransient.ShouldBeTrue();
    }

    [Fact]
    public async Task Circuit_AfterBreakDuration_ProbeAnswersAndCloses()
    {
        var time = new FakeTimeProvider();
        var fake = new FakeDockerClient();
        fake.FailWith(Unavailable);
        var pipelines = new DockerResiliencePipelines(s_tripsAfterTwo, time);
        var client = new ResilientDockerClient(fake, pipelines);
        await Should.ThrowAsync<DockerUnavailableException>(() => client.PingAsync(Token));
        await Should.ThrowAsync<DockerUnavailableException>(() => client.PingAsync(Token));
        pipelines.CircuitState.ShouldBe(CircuitState.Open);

        fake.Behavior = null;
        time.Advance(s_tripsAfterTwo.BreakerBreakDuration);
        await client.PingAsync(Token);

        pipelines.CircuitState.ShouldBe(CircuitState.Closed);
        (await client.InspectImageAsync("x", Token)).ShouldBeNull();
    }

    [Fact]
    public async Task CloseIfOpen_DirectPingSawTheDaemonBack_CallsGoThroughBeforeTheBreakDurationEnds()
    {
        var time = new FakeTimeProvider();
        var fake = new FakeDockerClient();
        fake.FailWith(Unavailable);
        var pipelines = new DockerResiliencePipelines(s_tripsAfterTwo, time);
        var client = new ResilientDockerClient(fake, pipelines);
        await Should.ThrowAsync<DockerUnavailableException>(() => client.PingAsync(Token));
        await Should.ThrowAsync<DockerUnavailableException>(() => client.PingAsync(Token));
        pipelines.CircuitState.ShouldBe(CircuitState.Open);

        // The daemon is back and a ping that bypasses the breaker saw it; no time passes.
        fake.Behavior = null;
        await pipelines.CloseIfOpenAsync(Token);

        pipelines.CircuitState.ShouldBe(CircuitState.Closed);
        (await client.InspectImageAsync("x", Token)).ShouldBeNull();
    }

    [Fact]
    public async Task Circuit_DaemonAnswersWithErrors_StaysClosed()
    {
        var fake = new FakeDockerClient();
        fake.FailWith(op => new DockerNotFoundException("gone", op.Endpoint(), null));
        var pipelines = new DockerResiliencePipelines(s_tripsAfterTwo, new FakeTimeProvider());
        var client = new ResilientDockerClient(fake, pipelines);

        for (int i = 0; i < 5; i++)
        {
            await Should.ThrowAsync<DockerNotFoundException>(() => client.InspectContainerAsync("abc", Token));
        }

        pipelines.CircuitState.ShouldBe(CircuitState.Closed);
        fake.Calls(DockerOperation.InspectContainer).ShouldBe(5);
    }

    [Fact]
    public async Task Circuit_CallerCancellations_DoNotCountAsFailures()
    {
        var fake = new FakeDockerClient { Behavior = (_, ct) => Task.FromCanceled(new CancellationToken(canceled: true)) };
        var pipelines = new DockerResiliencePipelines(s_tripsAfterTwo, new FakeTimeProvider());
        var client = new ResilientDockerClient(fake, pipelines);

        for (int i = 0; i < 4; i++)
        {
            await Should.ThrowAsync<OperationCanceledException>(() => client.PingAsync(Token));
        }

        pipelines.CircuitState.ShouldBe(CircuitState.Closed);
    }

    [Fact]
    public async Task Circuit_SharedByClientsOfSamePipelines_OneOutageStopsBoth()
    {
        var time = new FakeTimeProvider();
        var pipelines = new DockerResiliencePipelines(s_tripsAfterTwo, time);
        var failing = new FakeDockerClient();
        failing.FailWith(Unavailable);
        var healthy = new FakeDockerClient();
        var first = new ResilientDockerClient(failing, pipelines);
        var second = new ResilientDockerClient(healthy, pipelines);
        await Should.ThrowAsync<DockerUnavailableException>(() => first.PingAsync(Token));
        await Should.ThrowAsync<DockerUnavailableException>(() => first.GetInfoAsync(Token));

        await Should.ThrowAsync<DockerUnavailableException>(() => second.KillContainerAsync("abc", "SIGKILL", Token));

        healthy.TotalCalls.ShouldBe(0);
    }

    [Fact]
    public async Task Decorator_Success_PassesResultsThrough()
    {
        var client = new ResilientDockerClient(new FakeDockerClient(), new DockerResilienceOptions(), TimeProvider.System);

        (await client.KillContainerAsync("abc", "SIGKILL", Token)).ShouldBeFalse();
        (await client.RemoveContainerAsync("abc", Token)).ShouldBeTrue();
        (await client.CreateContainerAsync(new ContainerCreateRequest { Image = "x", HostConfig = new HostConfig() }, null, Token)).ShouldBe("c0ffee");
        (await client.InspectContainerAsync("abc", Token)).Id.ShouldBe("abc");
        (await client.GetVersionAsync(Token)).ApiVersion.ShouldBe("1.41");
        await using IAttachedStream attached = await client.AttachAsync("abc", Token);
        (await attached.ReadAsync(new byte[1], Token)).Count.ShouldBe(0);
    }

    [Fact]
    public void Constructor_InvalidOptions_ListsEveryProblem()
    {
        var options = new DockerResilienceOptions { CallTimeout = TimeSpan.Zero, BreakerMinimumThroughput = 1, BreakerFailureRatio = 0 };

        var ex = Should.Throw<ArgumentException>(() => new DockerResiliencePipelines(options, TimeProvider.System));

        ex.Message.ShouldContain("Docker:Resilience:CallTimeout");
        ex.Message.ShouldContain("Docker:Resilience:BreakerMinimumThroughput");
        ex.Message.ShouldContain("Docker:Resilience:BreakerFailureRatio");
    }

    [Theory]
    [InlineData(typeof(DockerUnavailableException), true)]
    [InlineData(typeof(Polly.Timeout.TimeoutRejectedException), true)]
    [InlineData(typeof(DockerNotFoundException), false)]
    [InlineData(typeof(OperationCanceledException), false)]
    [InlineData(typeof(InvalidOperationException), false)]
    public void IsTransient_ExceptionType_DecidesRetry(Type type, bool expected)
    {
        Exception ex = type.Name switch
        {
            nameof(DockerUnavailableException) => new DockerUnavailableException("x", "GET /_ping"),
            nameof(DockerNotFoundException) => new DockerNotFoundException("x", "GET /_ping", null),
            _ => (Exception)Activator.CreateInstance(type)!,
        };

        DockerResiliencePipelines.IsTransient(ex).ShouldBe(expected);
    }

    private static DockerException ExitUnderWay(DockerOperation operation) => DockerErrorMapper.FromStatus(
        operation, 409, "Could not kill running container abc, cannot remove - Container abc is not running", "abc");

    private static DockerUnavailableException Unavailable(DockerOperation operation) =>
        new("connection refused", operation.Endpoint(), new IOException("refused"));

    private static Task Call(ResilientDockerClient client, DockerOperation operation) => operation switch
    {
        DockerOperation.Ping => client.PingAsync(Token),
        DockerOperation.Version => client.GetVersionAsync(Token),
        DockerOperation.Info => client.GetInfoAsync(Token),
        DockerOperation.CreateContainer => client.CreateContainerAsync(new ContainerCreateRequest { Image = "x", HostConfig = new HostConfig() }, null, Token),
        DockerOperation.StartContainer => client.StartContainerAsync("abc", Token),
        DockerOperation.AttachContainer => client.AttachAsync("abc", Token),
        DockerOperation.WaitContainer => client.WaitContainerAsync("abc", Token),
        DockerOperation.KillContainer => client.KillContainerAsync("abc", "SIGKILL", Token),
        DockerOperation.RemoveContainer => client.RemoveContainerAsync("abc", Token),
        DockerOperation.InspectContainer => client.InspectContainerAsync("abc", Token),
        DockerOperation.ListContainers => client.ListContainersAsync([], Token),
        DockerOperation.InspectImage => client.InspectImageAsync("x", Token),
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };
}
