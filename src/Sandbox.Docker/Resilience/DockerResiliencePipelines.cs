using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using Sandbox.Core.Errors;
using Sandbox.Core.Runs;
using Sandbox.Docker.Client;

namespace Sandbox.Docker.Resilience;

/// <summary>
/// The Polly pipelines every Docker call runs through, chosen per <see cref="DockerOperation"/>:
/// <list type="bullet">
/// <item>calls safe to repeat (ping, version, info, inspect, list, image inspect, kill, remove):
/// retry → shared circuit breaker → per-attempt timeout;</item>
/// <item>create, start, attach: shared circuit breaker → timeout, never retried (a repeat could create a second
/// container or start a run twice);</item>
/// <item>wait: no timeout (it lasts as long as the container; the caller's token bounds it) and only a check of
/// the shared circuit, see <see cref="ExecuteAsync{T}"/>.</item>
/// </list>
/// Failures come out as <see cref="DockerException"/>s: a timeout or an open circuit is a
/// <see cref="DockerUnavailableException"/>, never a Polly type.
/// </summary>
internal sealed class DockerResiliencePipelines
{
    private readonly DockerResilienceOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CircuitBreakerStateProvider _circuit = new();
    private readonly CircuitBreakerManualControl _control = new();
    private readonly ResiliencePipeline _safe;
    private readonly ResiliencePipeline _unsafe;

    // Timestamp (TimeProvider ticks) of the first transient failure since the daemon last answered; 0 = answering.
    private long _unansweredSince;

    /// <summary>Builds the pipelines; one instance per daemon, shared by every caller so the circuit is shared.</summary>
    /// <param name="options">Validated with <see cref="DockerResilienceOptionsValidator"/>; invalid options throw.</param>
    /// <param name="timeProvider">Clock for delays, timeouts and the breaker; <see cref="TimeProvider.System"/> in production.</param>
    /// <param name="logger">Where retries and circuit changes are logged; none when null.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public DockerResiliencePipelines(DockerResilienceOptions options, TimeProvider timeProvider, ILogger<DockerResiliencePipelines>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        IReadOnlyList<FieldError> errors = DockerResilienceOptionsValidator.Validate(options);
        if (errors.Count > 0)
        {
            throw new ArgumentException(
                "invalid Docker resilience options:" + string.Concat(errors.Select(e => "\n  - " + e)), nameof(options));
        }

        _options = options;
        _timeProvider = timeProvider;
        _logger = logger ?? (ILogger)NullLogger.Instance;

        // One breaker pipeline, embedded in both composites, so every call sees (and feeds) the same circuit.
        ResiliencePipeline breaker = new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = options.BreakerSamplingDuration,
                BreakDuration = options.BreakerBreakDuration,
                StateProvider = _circuit,
                ManualControl = _control,
                ShouldHandle = static args => ValueTask.FromResult(IsTransient(args.Outcome.Exception)),
                OnOpened = args =>
                {
                    DockerResilienceLog.CircuitOpened(_logger, args.BreakDuration.TotalSeconds, args.Outcome.Exception?.Message ?? "none");
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    DockerResilienceLog.CircuitHalfOpened(_logger);
                    return default;
                },
                OnClosed = _ =>
                {
                    DockerResilienceLog.CircuitClosed(_logger);
                    return default;
                },
            })
            .Build();

        var timeout = new TimeoutStrategyOptions { Timeout = options.CallTimeout };

        var safe = new ResiliencePipelineBuilder { TimeProvider = timeProvider };
        if (options.MaxRetryAttempts > 0)
        {
            safe.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = static args => ValueTask.FromResult(IsRetried(args.Outcome.Exception)),
                OnRetry = args =>
                {
                    DockerResilienceLog.Retrying(
                        _logger, args.Context.OperationKey ?? "?", args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds,
                        args.Outcome.Exception?.Message ?? "none");
                    return default;
                },
            });
        }

        _safe = safe.AddPipeline(breaker).AddTimeout(timeout).Build();
        _unsafe = new ResiliencePipelineBuilder { TimeProvider = timeProvider }.AddPipeline(breaker).AddTimeout(timeout).Build();
    }

    /// <summary>The shared circuit's state, for health checks (<c>sandbox doctor</c>, readiness).</summary>
    public CircuitState CircuitState => _circuit.CircuitState;

    /// <summary>
    /// Closes an open circuit once a direct ping (no breaker) proved the daemon answers again: readiness and the backend's
    /// availability follow the daemon within a second, so runs planned on Docker must not then fail fast for the rest of
    /// the break duration (a run answered sandbox_error while /readyz said Docker was fine).
    /// </summary>
    public async Task CloseIfOpenAsync(CancellationToken cancellationToken)
    {
        if (_circuit.CircuitState is CircuitState.Open or CircuitState.HalfOpen)
        {
            await _control.CloseAsync(cancellationToken);
        }
    }

    /// <summary>
    /// True for failures worth retrying and counting against the circuit: the daemon did not answer
    /// (a transient <see cref="SandboxException"/>) or an attempt timed out. Tests the type and
    /// <see cref="SandboxException.IsTransient"/>, never a message; the caller's own cancellation is not a failure.
    /// </summary>
    public static bool IsTransient(Exception? exception) =>
        exception is SandboxException { IsTransient: true } or TimeoutRejectedException;

    /// <summary>
    /// True for failures a safe call retries: the transient ones, and a conflict that settles by itself
    /// (<see cref="DockerConflictException.SettlesShortly"/>: a removal racing the container's exit in the daemon), which
    /// the circuit does not count, as the daemon answered it. Without the retry such a removal failed and was tried again
    /// only seconds later, outside what shutdown and the tests wait for.
    /// </summary>
    public static bool IsRetried(Exception? exception) =>
        IsTransient(exception) || exception is DockerConflictException { SettlesShortly: true };

    /// <summary>Runs <paramref name="call"/> for <paramref name="operation"/> through the pipeline that fits it.</summary>
    /// <exception cref="DockerUnavailableException">The daemon did not answer in time, or the circuit is open.</exception>
    public async Task<T> ExecuteAsync<T>(DockerOperation operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        string endpoint = operation.Endpoint();
        try
        {
            T result = operation == DockerOperation.WaitContainer
                ? await WaitThroughCircuitCheckAsync(endpoint, call, cancellationToken)
                : await ExecuteInPipelineAsync(operation.IsSafeToRetry() ? _safe : _unsafe, endpoint, call, cancellationToken);
            MarkAnswered();
            return result;
        }
        catch (TimeoutRejectedException ex)
        {
            MarkUnanswered();
            throw new DockerUnavailableException(
                string.Create(CultureInfo.InvariantCulture, $"Docker did not answer {endpoint} within {_options.CallTimeout.TotalSeconds:0.###} s; is dockerd hung or overloaded? check its log"),
                endpoint, ex);
        }
        catch (BrokenCircuitException ex)
        {
            throw CircuitOpen(endpoint, ex);
        }
        catch (DockerException ex) when (ex.IsTransient)
        {
            MarkUnanswered();
            throw;
        }
        catch (DockerException)
        {
            // A 404 or 409 is still an answer: the daemon is alive.
            MarkAnswered();
            throw;
        }
    }

    private static async Task<T> ExecuteInPipelineAsync<T>(
        ResiliencePipeline pipeline, string endpoint, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get(endpoint, cancellationToken);
        try
        {
            return await pipeline.ExecuteAsync(
                static async (ctx, state) => await state(ctx.CancellationToken), context, call);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// Wait fails fast while the circuit is open but does not run inside the breaker: as the half-open probe, a
    /// wait lasting as long as its container would keep every other call rejected meanwhile.
    /// </summary>
    private async Task<T> WaitThroughCircuitCheckAsync<T>(string endpoint, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        if (_circuit.CircuitState is CircuitState.Open or CircuitState.Isolated)
        {
            throw CircuitOpen(endpoint, inner: null);
        }

        return await call(cancellationToken);
    }

    private DockerUnavailableException CircuitOpen(string endpoint, Exception? inner)
    {
        long since = Interlocked.Read(ref _unansweredSince);
        TimeSpan silent = since == 0 ? _options.BreakerBreakDuration : _timeProvider.GetElapsedTime(since);
        return new DockerUnavailableException(
            string.Create(CultureInfo.InvariantCulture,
                $"circuit open: Docker has not answered for {silent.TotalSeconds:0} s, so {endpoint} fails fast (the next probe is at most {_options.BreakerBreakDuration.TotalSeconds:0} s away); is dockerd running? start it or fix DOCKER_HOST"),
            endpoint, inner);
    }

    private void MarkAnswered() => Interlocked.Exchange(ref _unansweredSince, 0);

    private void MarkUnanswered()
    {
        // Keep the first failure's time: "has not answered for N s" counts from the start of the outage.
        long now = _timeProvider.GetTimestamp();
        Interlocked.CompareExchange(ref _unansweredSince, now == 0 ? 1 : now, 0);
    }
}
