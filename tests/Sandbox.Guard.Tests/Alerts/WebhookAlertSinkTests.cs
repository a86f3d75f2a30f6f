using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Sandbox.Guard.Alerts;

namespace Sandbox.Guard.Tests.Alerts;

/// <summary>Against a real HTTP listener on 127.0.0.1, with real time.</summary>
public sealed class WebhookAlertSinkTests
{
    // WebhookAlertSinkLog event ids.
    private const int Dropped = 1;
    private const int Retrying = 2;
    private const int Failed = 3;
    private const int Undelivered = 5;
    private const int Closed = 6;

    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    private static Alert SomeAlert(string agentId = "agt_ci") => new()
    {
        Detector = "loop",
        AgentId = agentId,
        AgentName = "ci-bot",
        Summary = "agent ci-bot ran the same code (sha256 1a2b3c4d…) 5 times in 10 min",
        At = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.FromHours(1)),
        Details = new JsonObject { ["count"] = 5, ["codeSha256"] = "1a2b3c4d", ["runId"] = "run_1" },
    };

    /// <summary>A short backoff (and, where asked, a short shutdown wait), so the failure paths take milliseconds, not seconds.</summary>
    private static WebhookAlertSink FastSink(Uri url, HttpClient http, ILogger<WebhookAlertSink> logger, TimeSpan? attemptTimeout = null, TimeSpan? drain = null) =>
        new(url, http, logger, TimeProvider.System, attemptTimeout ?? TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(20), drain ?? TimeSpan.FromSeconds(5));

    [Fact]
    public async Task Publish_PostsTheAlertAsCamelCaseJson()
    {
        await using var webhook = new LoopbackWebhook();
        using HttpClient http = LoopbackWebhook.Client();
        var logger = new ListLogger<WebhookAlertSink>();
        await using var sink = new WebhookAlertSink(webhook.Url, http, logger, TimeProvider.System);

        Alert alert = SomeAlert();
        sink.Publish(alert);
        ReceivedRequest request = await webhook.NextAsync(s_wait);

        request.Method.ShouldBe("POST");
        request.Path.ShouldBe("/hooks/alerts");
        request.ContentType.ShouldNotBeNull().ShouldStartWith("application/json");
        JsonObject body = JsonNode.Parse(request.Body).ShouldBeOfType<JsonObject>();
        body.Select(p => p.Key).ShouldBe(["type", "detector", "agentId", "agentName", "summary", "at", "details"]);
        body["type"]!.GetValue<string>().ShouldBe("sandbox.alert");
        body["detector"]!.GetValue<string>().ShouldBe("loop");
        body["agentId"]!.GetValue<string>().ShouldBe("agt_ci");
        body["agentName"]!.GetValue<string>().ShouldBe("ci-bot");
        body["summary"]!.GetValue<string>().ShouldBe(alert.Summary);
        DateTimeOffset.Parse(body["at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture).ShouldBe(alert.At);
        body["details"]!["count"]!.GetValue<int>().ShouldBe(5);
        body["details"]!["runId"]!.GetValue<string>().ShouldBe("run_1");
        // The alert keeps its own details: serializing does not move them.
        alert.Details["count"]!.GetValue<int>().ShouldBe(5);
    }

    [Fact]
    public async Task Publish_ServerErrorThenOk_DeliveredOnRetry()
    {
        await using var webhook = new LoopbackWebhook(answers: [HttpStatusCode.InternalServerError]);
        using HttpClient http = LoopbackWebhook.Client();
        var logger = new ListLogger<WebhookAlertSink>();
        await using (WebhookAlertSink sink = FastSink(webhook.Url, http, logger))
        {
            sink.Publish(SomeAlert());

            ReceivedRequest first = await webhook.NextAsync(s_wait);
            ReceivedRequest second = await webhook.NextAsync(s_wait);
            second.Body.ShouldBe(first.Body);
        }

        logger.Entries.ShouldContain(e => e.EventId == Retrying && e.Message.Contains("HTTP 500", StringComparison.Ordinal));
        logger.Entries.ShouldNotContain(e => e.EventId == Failed);
        webhook.ReceivedSoFar.ShouldBe(0);
    }

    [Fact]
    public async Task Publish_ClientError_IsFinalAndLogged()
    {
        await using var webhook = new LoopbackWebhook(answers: [HttpStatusCode.NotFound]);
        using HttpClient http = LoopbackWebhook.Client();
        var logger = new ListLogger<WebhookAlertSink>();
        await using WebhookAlertSink sink = FastSink(webhook.Url, http, logger);

        sink.Publish(SomeAlert());

        (await logger.WaitForAsync(Failed, s_wait)).ShouldContain("HTTP 404, not retried");
        webhook.ReceivedSoFar.ShouldBe(1);
    }

    [Fact]
    public async Task Publish_DeadUrl_LogsWithoutThrowingOrLeakingThePath()
    {
        var dead = new Uri($"http://127.0.0.1:{LoopbackWebhook.FreePort()}/hooks/s3cr3t-token");
        using HttpClient http = LoopbackWebhook.Client();
        var logger = new ListLogger<WebhookAlertSink>();
        WebhookAlertSink sink = FastSink(dead, http, logger);

        sink.Publish(SomeAlert());
        string failed = await logger.WaitForAsync(Failed, s_wait);

        failed.ShouldContain("after 4 attempt(s)");
        logger.Entries.Count(e => e.EventId == Retrying).ShouldBe(3);
        logger.Entries.ShouldAllBe(e => !e.Message.Contains("s3cr3t", StringComparison.Ordinal));
        var stopwatch = Stopwatch.StartNew();
        await sink.DisposeAsync();
        stopwatch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task DisposeAsync_WebhookNeverAnswers_ReturnsWithinTheBound()
    {
        await using var webhook = new LoopbackWebhook() { Hang = true };
        using HttpClient http = LoopbackWebhook.Client();
        var logger = new ListLogger<WebhookAlertSink>();
        WebhookAlertSink sink = FastSink(webhook.Url, http, logger, attemptTimeout: TimeSpan.FromSeconds(30), drain: TimeSpan.FromMilliseconds(300));
        sink.Publish(SomeAlert("agt_1"));
        sink.Publish(SomeAlert("agt_2"));
        await webhook.NextAsync(s_wait);

        var stopwatch = Stopwatch.StartNew();
        await sink.DisposeAsync();

        stopwatch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));
        (await logger.WaitForAsync(Undelivered, s_wait)).ShouldContain("2 alert(s) still undelivered");
    }

    [Fact]
    public async Task Publish_AfterDispose_LogsAndDoesNotThrow()
    {
        await using var webhook = new LoopbackWebhook();
        using HttpClient http = LoopbackWebhook.Client();
        var logger = new ListLogger<WebhookAlertSink>();
        WebhookAlertSink sink = FastSink(webhook.Url, http, logger);
        await sink.DisposeAsync();
        await sink.DisposeAsync();

        sink.Publish(SomeAlert());

        logger.Entries.ShouldContain(e => e.EventId == Closed);
    }

    [Fact]
    public async Task Publish_QueueFull_DropsTheOldestWithAWarning()
    {
        await using var webhook = new LoopbackWebhook() { Hang = true };
        using HttpClient http = LoopbackWebhook.Client();
        var logger = new ListLogger<WebhookAlertSink>();
        WebhookAlertSink sink = FastSink(webhook.Url, http, logger, attemptTimeout: TimeSpan.FromSeconds(30), drain: TimeSpan.FromMilliseconds(100));
        sink.Publish(SomeAlert("agt_first"));
        await webhook.NextAsync(s_wait);

        // The first is in flight (and hangs); the queue holds Capacity more; two more push the oldest two out.
        for (int i = 0; i < WebhookAlertSink.Capacity + 2; i++)
        {
            sink.Publish(SomeAlert($"agt_{i}"));
        }

        logger.Entries.Where(e => e.EventId == Dropped).Select(e => e.Message)
            .ShouldBe([
                $"Alert queue for webhook {webhook.Url.GetLeftPart(UriPartial.Authority)} is full (1000): dropped the oldest alert, loop for agent agt_0",
                $"Alert queue for webhook {webhook.Url.GetLeftPart(UriPartial.Authority)} is full (1000): dropped the oldest alert, loop for agent agt_1",
            ]);
        await sink.DisposeAsync();
    }

    [Fact]
    public void Ctor_NotHttp_Throws()
    {
        using HttpClient http = LoopbackWebhook.Client();

        Should.Throw<ArgumentException>(() => new WebhookAlertSink(new Uri("ftp://127.0.0.1/x"), http, new ListLogger<WebhookAlertSink>(), TimeProvider.System))
            .Message.ShouldContain("scheme 'ftp'");
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/hooks")]
    [InlineData("https://hooks.example.com/services/T000/B000/XXXX?x=1")]
    public void ValidateUrl_HttpOrHttpsAbsolute_Ok(string url) => WebhookAlertSink.ValidateUrl(url).ShouldBeNull();

    [Theory]
    [InlineData(null, "is empty")]
    [InlineData("  ", "is empty")]
    [InlineData("hooks/alerts", "is not an absolute URL")]
    [InlineData("/var/run/hook", "is not an absolute URL")]
    [InlineData("file:///etc/passwd", "is not an absolute URL")]
    [InlineData("ftp://hooks.example.com/x", "scheme 'ftp'")]
    [InlineData("javascript:alert(1)", "scheme 'javascript'")]
    public void ValidateUrl_Other_NamesTheProblem(string? url, string expected) =>
        WebhookAlertSink.ValidateUrl(url).ShouldNotBeNull().ShouldContain(expected);

    [Fact]
    public void NullAlertSink_Publish_DoesNothing() => NullAlertSink.Instance.Publish(SomeAlert());
}
