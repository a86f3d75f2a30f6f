using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Sandbox.Guard.Alerts;

/// <summary>
/// POSTs each alert as JSON to a webhook, from a background loop: <see cref="Publish"/> only queues, so a slow or
/// dead webhook never slows a run.
/// </summary>
/// <remarks>
/// <para>
/// The body is <c>{"type":"sandbox.alert","detector","agentId","agentName","summary","at","details"}</c>. Each
/// attempt has its own timeout; a failure to connect, a timeout, 408, 429 or a 5xx answer is retried with
/// exponential backoff, any other answer is final. Failures are logged as warnings, never thrown.
/// </para>
/// <para>
/// The queue holds <see cref="Capacity"/> alerts; when the webhook falls that far behind, the oldest alert is
/// dropped (with a warning), since the newest say most about the present. <see cref="DisposeAsync"/> stops taking
/// alerts and waits a bounded time for the queue to drain.
/// </para>
/// </remarks>
public sealed class WebhookAlertSink : IAlertSink, IAsyncDisposable
{
    /// <summary>How many alerts wait for delivery at most.</summary>
    public const int Capacity = 1000;

    private const int MaxRetryAttempts = 3;
    private static readonly TimeSpan s_attemptTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_retryBaseDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(5);
    private static readonly MediaTypeHeaderValue s_json = new("application/json") { CharSet = "utf-8" };

    private readonly Uri _webhook;
    private readonly string _target;
    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _drainTimeout;
    private readonly Channel<Alert> _queue;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _pump;
    private int _disposed;

    /// <param name="webhook">An absolute http or https URL (see <see cref="ValidateUrl"/>).</param>
    /// <param name="http">The client to POST with; not disposed by the sink.</param>
    /// <param name="logger">Where delivery failures go.</param>
    /// <param name="time">Clock for timeouts, backoff and the shutdown wait.</param>
    /// <exception cref="ArgumentException"><paramref name="webhook"/> is not an absolute http or https URL.</exception>
    public WebhookAlertSink(Uri webhook, HttpClient http, ILogger<WebhookAlertSink> logger, TimeProvider time)
        : this(webhook, http, logger, time, s_attemptTimeout, s_retryBaseDelay, s_drainTimeout)
    {
    }

    /// <summary>The same with other timings, so tests need not wait seconds for a backoff.</summary>
    internal WebhookAlertSink(
        Uri webhook, HttpClient http, ILogger<WebhookAlertSink> logger, TimeProvider time,
        TimeSpan attemptTimeout, TimeSpan retryBaseDelay, TimeSpan drainTimeout)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(time);
        if (ValidateUrl(webhook.OriginalString) is { } problem)
        {
            throw new ArgumentException("the webhook URL " + problem, nameof(webhook));
        }

        _webhook = webhook;
        _target = webhook.GetLeftPart(UriPartial.Authority);
        _http = http;
        _logger = logger;
        _time = time;
        _drainTimeout = drainTimeout;
        _queue = Channel.CreateBounded<Alert>(
            new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            dropped => WebhookAlertSinkLog.Dropped(_logger, _target, Capacity, dropped.Detector, dropped.AgentId));
        _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = MaxRetryAttempts,
                Delay = retryBaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutRejectedException>()
                    .HandleResult(static response => IsTransient(response.StatusCode)),
                OnRetry = args =>
                {
                    WebhookAlertSinkLog.Retrying(_logger, _target, args.AttemptNumber + 1, Describe(args.Outcome), args.RetryDelay.TotalMilliseconds);
                    // The answer being retried is not returned to anyone: release its connection now.
                    args.Outcome.Result?.Dispose();
                    return default;
                },
            })
            .AddTimeout(attemptTimeout)
            .Build();
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Null when <paramref name="url"/> is an absolute http or https URL; otherwise what is wrong with it (it does not echo the URL, which may hold a token).</summary>
    public static string? ValidateUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return "is empty: give an absolute http or https URL such as https://hooks.example.com/sandbox";
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || uri.IsFile || uri.IsUnc)
        {
            return "is not an absolute URL: give one such as https://hooks.example.com/sandbox";
        }

        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            return $"has the scheme '{uri.Scheme}': alerts are POSTed over http or https only";
        }

        return null;
    }

    /// <summary>Queues the alert and returns at once; if the queue is full, the oldest queued alert is dropped.</summary>
    public void Publish(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (!_queue.Writer.TryWrite(alert))
        {
            WebhookAlertSinkLog.Closed(_logger, _target, alert.Detector, alert.AgentId);
        }
    }

    /// <summary>Stops taking alerts, waits up to 5 s for the queued ones to be delivered, then abandons the rest.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _pump.WaitAsync(_drainTimeout, _time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!_pump.IsCompleted)
        {
            await _stopping.CancelAsync();
            // The pump sees the cancellation at its next await (HttpClient honours it at once); the second bound
            // only guards against a handler that does not.
            await _pump.WaitAsync(TimeSpan.FromSeconds(1), _time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        // A pump still running may yet touch the token, so its source is disposed only once the pump is done.
        if (_pump.IsCompleted)
        {
            _stopping.Dispose();
        }
    }

    /// <summary>The JSON body for one alert.</summary>
    internal static string ToJson(Alert alert) =>
        new JsonObject
        {
            ["type"] = "sandbox.alert",
            ["detector"] = alert.Detector,
            ["agentId"] = alert.AgentId,
            ["agentName"] = alert.AgentName,
            ["summary"] = alert.Summary,
            ["at"] = alert.At,
            // A node has one parent: the alert keeps its own details.
            ["details"] = alert.Details.DeepClone(),
        }.ToJsonString();

    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    private static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } exception
            ? exception is TimeoutRejectedException ? "no answer in time" : exception.Message
            : $"HTTP {(int)outcome.Result!.StatusCode}";

    // Never throws: every failure is logged where it happens.
    private async Task PumpAsync()
    {
        try
        {
            await foreach (Alert alert in _queue.Reader.ReadAllAsync(_stopping.Token))
            {
                await DeliverAsync(alert, _stopping.Token);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // +1: the alert whose delivery was cut short.
            WebhookAlertSinkLog.Undelivered(_logger, _target, _queue.Reader.Count + 1, _drainTimeout.TotalSeconds);
        }
    }

    private async Task DeliverAsync(Alert alert, CancellationToken cancellationToken)
    {
        byte[] body = Encoding.UTF8.GetBytes(ToJson(alert));
        int attempts = 0;
        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            using HttpResponseMessage response = await _pipeline.ExecuteAsync(
                async ctx =>
                {
                    attempts++;
                    // A request message can be sent only once: each attempt builds its own.
                    using var request = new HttpRequestMessage(HttpMethod.Post, _webhook)
                    {
                        Content = new ByteArrayContent(body) { Headers = { ContentType = s_json } },
                    };
                    return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ctx.CancellationToken);
                },
                context);
            if (response.IsSuccessStatusCode)
            {
                WebhookAlertSinkLog.Delivered(_logger, _target, alert.Detector, alert.AgentId);
            }
            else
            {
                string reason = IsTransient(response.StatusCode) ? $"HTTP {(int)response.StatusCode}" : $"HTTP {(int)response.StatusCode}, not retried";
                WebhookAlertSinkLog.Failed(_logger, _target, alert.Detector, alert.AgentId, attempts, reason);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or OperationCanceledException or InvalidOperationException)
        {
            // OperationCanceledException here is HttpClient.Timeout, not ours; InvalidOperationException a misconfigured client.
            string reason = ex is TimeoutRejectedException ? "no answer in time" : ex.Message;
            WebhookAlertSinkLog.Failed(_logger, _target, alert.Detector, alert.AgentId, attempts, reason);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
