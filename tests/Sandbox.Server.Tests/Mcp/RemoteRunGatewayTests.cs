using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Server.Mcp;

namespace Sandbox.Server.Tests.Mcp;

public sealed class RemoteRunGatewayTests : IDisposable
{
    private const string RunJson = """
        {"id":"run_0195f3a2b4c64d7e8f90a1b2c3d4e5f6","state":"completed","createdAt":"2025-01-02T03:04:05Z","queueMs":3,"runMs":450,
         "result":{"runId":"run_0195f3a2b4c64d7e8f90a1b2c3d4e5f6","status":"timeout","exitCode":null,"signal":9,"stdout":"","stdoutTruncated":false,
                   "stderr":"","stderrTruncated":false,"usage":{"wallMs":1010,"cpuMs":990,"peakMemoryBytes":6770688,"outputBytes":0},
                   "limits":{"wallTimeMs":1000,"cpuTimeMs":5000,"memoryBytes":268435456,"pids":64,"stdoutBytes":1048576,"stderrBytes":1048576,"fileSizeBytes":16777216,"tmpBytes":67108864},
                   "limitBreach":{"limit":"wallTimeMs","value":1000,"observed":1010},"language":"python","backend":"docker","profile":"python","runtime":"runc",
                   "message":"timeout","errors":null,"somethingNewer":1},
         "raw":null}
        """;

    private readonly StubHandler _handler = new();

    private RemoteRunGateway Gateway(string? apiKey = "k3y", string url = "http://sandbox.test:8080/base") =>
        new(new HttpClient(_handler), new Uri(url), apiKey, TimeProvider.System);

    private static RunRequest Request() => new()
    {
        Language = "python",
        Code = "while True: pass",
        Purpose = "show a timeout",
        Limits = new LimitOverrides { WallTimeMs = 1000 },
    };

    [Fact]
    public async Task RunAsync_Ok_PostsCamelCaseWithTheKeyAndReadsTheRun()
    {
        _handler.Respond(HttpStatusCode.OK, RunJson, "application/json");

        var answer = await Gateway().RunAsync(Request(), TestContext.Current.CancellationToken);

        var sent = _handler.Requests.Single();
        sent.Method.ShouldBe(HttpMethod.Post);
        sent.Uri.ShouldBe(new Uri("http://sandbox.test:8080/base/v1/runs"));
        sent.Authorization.ShouldBe("Bearer k3y");
        using var body = JsonDocument.Parse(sent.Body!);
        body.RootElement.GetProperty("language").GetString().ShouldBe("python");
        body.RootElement.GetProperty("purpose").GetString().ShouldBe("show a timeout");
        body.RootElement.GetProperty("limits").GetProperty("wallTimeMs").GetInt64().ShouldBe(1000);
        body.RootElement.TryGetProperty("stdin", out _).ShouldBeFalse();

        answer.Problem.ShouldBeNull();
        answer.Run!.QueueMs.ShouldBe(3);
        answer.Run.Result!.Status.ShouldBe(RunStatus.Timeout);
        answer.Run.Result.LimitBreach.ShouldBe(new LimitBreach("wallTimeMs", 1000, 1010));
    }

    [Fact]
    public async Task RunAsync_NoKey_SendsNoAuthorization()
    {
        _handler.Respond(HttpStatusCode.OK, RunJson, "application/json");

        await Gateway(apiKey: null).RunAsync(Request(), TestContext.Current.CancellationToken);

        _handler.Requests.Single().Authorization.ShouldBeNull();
    }

    [Fact]
    public async Task RunAsync_ProblemWithErrors_MapsCodeAndFields()
    {
        _handler.Respond(HttpStatusCode.BadRequest, """
            {"type":"https://sandbox.dev/problems/invalid_request","title":"The request is invalid","status":400,
             "detail":"limits.wallTimeMs: may only tighten the profile's 10000","code":"invalid_request",
             "errors":[{"field":"limits.wallTimeMs","message":"may only tighten the profile's 10000"}]}
            """, "application/problem+json");

        var answer = await Gateway().RunAsync(Request(), TestContext.Current.CancellationToken);

        var problem = answer.Problem.ShouldNotBeNull();
        problem.Status.ShouldBe(400);
        problem.Code.ShouldBe("invalid_request");
        problem.Errors!.Single().ShouldBe(new FieldError("limits.wallTimeMs", "may only tighten the profile's 10000"));
    }

    [Fact]
    public async Task RunAsync_TooManyRequests_CarriesRetryAfter()
    {
        _handler.Respond(HttpStatusCode.TooManyRequests, """{"title":"Busy","status":429,"detail":"the queue is full","code":"queue_full"}""",
            "application/problem+json", retryAfter: TimeSpan.FromSeconds(7));

        var problem = (await Gateway().RunAsync(Request(), TestContext.Current.CancellationToken)).Problem.ShouldNotBeNull();

        problem.Status.ShouldBe(429);
        problem.Code.ShouldBe("queue_full");
        problem.RetryAfterSeconds.ShouldBe(7);
    }

    [Fact]
    public async Task RunAsync_ProblemWithoutCode_TakesItFromTheType()
    {
        _handler.Respond(HttpStatusCode.RequestEntityTooLarge, """{"type":"https://sandbox.dev/problems/request_too_large","title":"Too large","status":413}""",
            "application/problem+json");

        var problem = (await Gateway().RunAsync(Request(), TestContext.Current.CancellationToken)).Problem.ShouldNotBeNull();

        problem.Code.ShouldBe("request_too_large");
        problem.Detail.ShouldBe("Too large");
    }

    [Fact]
    public async Task RunAsync_ProxyErrorPage_IsAProblemFromTheStatusLine()
    {
        _handler.Respond(HttpStatusCode.BadGateway, "<html>bad gateway</html>", "text/html");

        var problem = (await Gateway().RunAsync(Request(), TestContext.Current.CancellationToken)).Problem.ShouldNotBeNull();

        problem.Status.ShouldBe(502);
        problem.Code.ShouldBe("http_502");
    }

    [Fact]
    public async Task RunAsync_Unauthorized_SaysWhichVariableHoldsTheKey()
    {
        _handler.Respond(HttpStatusCode.Unauthorized, "", "text/plain");

        var problem = (await Gateway().RunAsync(Request(), TestContext.Current.CancellationToken)).Problem.ShouldNotBeNull();

        problem.Code.ShouldBe("unauthorized");
        problem.Detail.ShouldContain(RemoteRunGateway.ApiKeyVariable);
    }

    [Fact]
    public async Task RunAsync_ServiceUnreachable_IsA503Problem()
    {
        _handler.Fail(new HttpRequestException("Connection refused (sandbox.test:8080)"));

        var problem = (await Gateway().RunAsync(Request(), TestContext.Current.CancellationToken)).Problem.ShouldNotBeNull();

        problem.Status.ShouldBe(503);
        problem.Code.ShouldBe("service_unreachable");
        problem.RetryAfterSeconds.ShouldNotBeNull();
    }

    [Fact]
    public async Task RunAsync_BodyThatIsNotARun_IsABadGatewayProblem()
    {
        _handler.Respond(HttpStatusCode.OK, """{"hello":"world"}""", "application/json");

        var problem = (await Gateway().RunAsync(Request(), TestContext.Current.CancellationToken)).Problem.ShouldNotBeNull();

        problem.Status.ShouldBe(502);
    }

    [Fact]
    public async Task GetRunAsync_EscapesTheId()
    {
        _handler.Respond(HttpStatusCode.NotFound, """{"title":"No such run","status":404,"detail":"no run","code":"run_not_found"}""", "application/problem+json");

        var answer = await Gateway().GetRunAsync("../admin?x=1", TestContext.Current.CancellationToken);

        _handler.Requests.Single().Uri.AbsoluteUri.ShouldBe("http://sandbox.test:8080/base/v1/runs/..%2Fadmin%3Fx%3D1");
        answer.Problem!.Code.ShouldBe("run_not_found");
    }

    [Fact]
    public async Task ListLanguagesAsync_ReadsTheArray()
    {
        _handler.Respond(HttpStatusCode.OK, """
            [{"language":"python","defaultProfile":"python","backend":"docker","profiles":["python","python-gvisor"],
              "limits":{"wallTimeMs":10000,"cpuTimeMs":5000,"memoryBytes":268435456,"pids":64,"stdoutBytes":1048576,"stderrBytes":1048576,"fileSizeBytes":16777216,"tmpBytes":67108864}}]
            """, "application/json");

        _handler.RespondTo("/v1/me", """{"agent":{"profiles":["python","python-gvisor","bash"]},"credential":{"profiles":null}}""");

        var languages = await Gateway(url: "http://sandbox.test:8080/").ListLanguagesAsync(TestContext.Current.CancellationToken);

        _handler.Requests.Select(r => r.Uri).ShouldBe([new Uri("http://sandbox.test:8080/v1/languages"), new Uri("http://sandbox.test:8080/v1/me")]);
        languages.Single().Profiles.ShouldBe(["python", "python-gvisor"]);
        languages.Single().Limits.MemoryBytes.ShouldBe(268435456);
    }

    public void Dispose() => _handler.Dispose();

    [Fact]
    public async Task ListLanguagesAsync_KeyAllowsOnlyTheGvisorProfile_OffersItAsTheDefaultWithItsLimits()
    {
        _handler.Respond(HttpStatusCode.OK, """
            [{"language":"python","defaultProfile":"python","backend":"docker","profiles":["python","python-gvisor"],"limits":{"wallTimeMs":10000,"cpuTimeMs":5000,"memoryBytes":268435456,"pids":64,"stdoutBytes":1048576,"stderrBytes":1048576,"fileSizeBytes":16777216,"tmpBytes":67108864}},
             {"language":"bash","defaultProfile":"bash","backend":"docker","profiles":["bash"],"limits":{"wallTimeMs":10000,"cpuTimeMs":5000,"memoryBytes":268435456,"pids":64,"stdoutBytes":1048576,"stderrBytes":1048576,"fileSizeBytes":16777216,"tmpBytes":67108864}}]
            """, "application/json");
        _handler.RespondTo("/v1/me", """{"agent":{"profiles":["python","python-gvisor"]},"credential":{"profiles":["python-gvisor"]}}""");
        _handler.RespondTo("/v1/profiles", """[{"name":"python-gvisor","language":"python","backend":"docker","limits":{"wallTimeMs":20000,"cpuTimeMs":5000,"memoryBytes":268435456,"pids":64,"stdoutBytes":1048576,"stderrBytes":1048576,"fileSizeBytes":16777216,"tmpBytes":67108864}}]""");

        var languages = await Gateway(url: "http://sandbox.test:8080/").ListLanguagesAsync(TestContext.Current.CancellationToken);

        var python = languages.ShouldHaveSingleItem();
        python.DefaultProfile.ShouldBe("python-gvisor");
        python.Profiles.ShouldBe(["python-gvisor"]);
        python.Limits.WallTimeMs.ShouldBe(20000);
    }

    [Fact]
    public void Constructor_NotHttp_Throws() =>
        Should.Throw<ArgumentException>(() => Gateway(url: "file:///etc/passwd"));

    /// <summary>Answers every request with one canned response (or failure) and records what was sent.</summary>
    private sealed class StubHandler : HttpMessageHandler
    {
        private readonly Dictionary<string, string> _byPath = new(StringComparer.Ordinal);
        private Func<HttpResponseMessage>? _respond;

        /// <summary>A 200 JSON answer for one path, before the canned response.</summary>
        public void RespondTo(string path, string json) => _byPath[path] = json;

        public List<(HttpMethod Method, Uri Uri, string? Authorization, string? Body)> Requests { get; } = [];

        public void Respond(HttpStatusCode status, string body, string mediaType, TimeSpan? retryAfter = null) => _respond = () =>
        {
            var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, mediaType) };
            if (retryAfter is { } delta)
            {
                response.Headers.RetryAfter = new RetryConditionHeaderValue(delta);
            }

            return response;
        };

        public void Fail(Exception exception) => _respond = () => throw exception;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
            Requests.Add((request.Method, request.RequestUri!, request.Headers.Authorization?.ToString(), body));
            return _byPath.TryGetValue(request.RequestUri!.AbsolutePath, out var json)
                ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(json, Encoding.UTF8, "application/json") }
                : _respond!();
        }
    }
}
