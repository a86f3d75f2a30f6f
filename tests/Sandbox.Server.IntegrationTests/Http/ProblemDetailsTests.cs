using System.Net;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>Bad input gets RFC 9457 problem details that name the field and the fix; nothing runs.</summary>
public sealed class ProblemDetailsTests : IClassFixture<SandboxApiFactory>
{
    private readonly SandboxApiFactory _factory;

    public ProblemDetailsTests(SandboxApiFactory factory) => _factory = factory;

    [Theory]
    [InlineData("{\"language\": \"python\", \"code\": ", "malformed_json", "body")]
    [InlineData("[1, 2]", "malformed_json", "body")]
    [InlineData("{\"language\": \"python\", \"code\": 42}", "invalid_request", "code")]
    [InlineData("{\"language\": \"python\", \"code\": \"x\", \"limits\": {\"wallTimeMs\": \"soon\"}}", "invalid_request", "limits.wallTimeMs")]
    [InlineData("{\"language\": \"python\", \"code\": \"x\", \"async\": \"yes\"}", "invalid_request", "async")]
    [InlineData("{\"language\": \"python\", \"code\": \"x\", \"colour\": \"red\"}", "invalid_request", "colour")]
    [InlineData("{\"language\": \"cobol\", \"code\": \"x\"}", "invalid_request", "language")]
    [InlineData("{\"code\": \"x\"}", "invalid_request", "language")]
    [InlineData("{\"language\": \"python\", \"code\": \"x\", \"limits\": {\"wallTimeMs\": 1}, \"limits\": {\"wallTimeMs\": 2}}", "invalid_request", "limits")] // attack: a proxy checking the first limits is fooled by last-wins
    [InlineData("{\"language\": \"python\", \"code\": \"x\", \"limits\": {\"wallTimeMs\": 1, \"wallTimeMs\": 2}}", "invalid_request", "limits.wallTimeMs")]
    [InlineData("{\"language\": \"python\", \"code\": \"x\", \"files\": [{\"path\": \"a\", \"content\": \"\", \"path\": \"b\"}]}", "invalid_request", "files[0].path")]
    [InlineData("{\"language\": \"python\", \"code\": \"\\ud800\"}", "invalid_request", "code")] // attack: a lone surrogate
    [InlineData("{\"language\": \"python\", \"code\": \"x\", \"files\": [{\"path\": \"a\\udc00\", \"content\": \"\"}]}", "invalid_request", "files[0].path")]
    [InlineData("{\"language\": \"python\", \"code\": \"x\", \"files\": [null]}", "invalid_request", "files[0]")] // was a 500: hashed before validated
    [InlineData("{\"language\": \"python\", \"code\": \"x\", \"files\": [{\"path\": \"a\", \"content\": null}]}", "invalid_request", "files[0].content")]
    [InlineData("{\"language\": \"python\", \"code\": \"x\", \"files\": [{\"path\": null, \"content\": \"\"}]}", "invalid_request", "files[0].path")]
    public async Task Post_BadInput_Is400ProblemNamingTheField(string body, string code, string field)
    {
        using var client = _factory.CreateClient();

        using var response = await client.PostRawAsync(body);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await response.JsonAsync();
        ((string?)problem["code"]).ShouldBe(code);
        ((string?)problem["type"]).ShouldBe("urn:sandbox:problem:" + code);
        ((int?)problem["status"]).ShouldBe(400);
        var errors = problem["errors"]!.AsArray();
        errors.Select(e => (string?)e!["field"]).ShouldContain(field);
        errors.ShouldAllBe(e => ((string?)e!["message"])!.Length > 10);
    }

    [Fact]
    public async Task Post_LimitAboveProfile_SaysHowHighItMayGo()
    {
        using var client = _factory.CreateClient();

        var problem = await (await client.PostRawAsync("{\"language\": \"python\", \"code\": \"x\", \"limits\": {\"wallTimeMs\": 999999}}")).JsonAsync();

        ((string)problem["detail"]!).ShouldContain("at most 10000");
    }

    [Fact]
    public async Task Post_OversizedBody_Is413()
    {
        using var client = _factory.CreateClient();
        var code = new string('x', 9 * 1024 * 1024);

        using var response = await client.PostRunAsync(new { language = "python", code });

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        ((string?)(await response.JsonAsync())["code"]).ShouldBe("body_too_large");
    }

    [Fact]
    public async Task Post_WithoutJsonContentType_Is415WithTheFix()
    {
        using var client = _factory.CreateClient();

        using var response = await client.PostAsync("/v1/runs", new StringContent("language=python"), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
        ((string)(await response.JsonAsync())["detail"]!).ShouldContain("Content-Type: application/json");
    }

    [Theory]
    [InlineData("{\"language\": \"python\", \"code\": \"x\", \"limits\": {\"wallTimeMs\": 1}, \"limits\": {}}", "more than once")]
    [InlineData("{\"language\": \"python\", \"code\": \"a\\udfffb\"}", "lone surrogate")]
    public async Task Post_DuplicateKeyOrLoneSurrogate_SaysWhatIsWrong(string body, string message)
    {
        using var client = _factory.CreateClient();

        using var response = await client.PostRawAsync(body);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        ((string)(await response.JsonAsync())["errors"]![0]!["message"]!).ShouldContain(message);
    }

    [Theory]
    [InlineData("GET", "/v1/tokens", "application/xml", 405, "method_not_allowed")] // found by the fuzzer: was text/plain "Status Code: 405" without a code
    [InlineData("GET", "/v1/nowhere", "text/html", 404, "not_found")]
    [InlineData("PUT", "/v1/runs", "image/png, text/plain;q=0.5", 405, "method_not_allowed")]
    public async Task FrameworkProblem_AnyAccept_IsProblemJsonWithACode(string method, string path, string accept, int status, string code)
    {
        using var client = _factory.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.TryAddWithoutValidation("Accept", accept);

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        ((int)response.StatusCode).ShouldBe(status);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        ((string?)(await response.JsonAsync())["code"]).ShouldBe(code);
    }

    [Theory]
    [InlineData("{\"\u00ED\u00A0\u0080language\": \"python\", \"code\": \"x\"}", "language")] // attack: found by the fuzzer, was a 500 (reading the key as text threw)
    [InlineData("{\"language\": \"python\", \"codeX\u00FF\": \"x\"}", "codeX")]
    [InlineData("{\"language\": \"python\", \"code\": \"x\u00C3\u0028y\"}", "code")]
    [InlineData("{\"language\": \"python\", \"code\": \"x\", \"files\": [{\"path\": \"\u00F4\u0090\u0080\u0080\", \"content\": \"\"}]}", "files[0].path")]
    public async Task Post_BytesThatAreNotUtf8_Is400NamingTheField(string latin1Body, string field)
    {
        using var client = _factory.CreateClient();
        using var content = new ByteArrayContent(System.Text.Encoding.Latin1.GetBytes(latin1Body));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await client.PostAsync("/v1/runs", content, TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var problem = await response.JsonAsync();
        ((string?)problem["code"]).ShouldBe("invalid_request");
        ((string)problem["errors"]![0]!["field"]!).ShouldContain(field);
        ((string)problem["errors"]![0]!["message"]!).ShouldContain("not UTF-8");
    }

    [Theory]
    [InlineData("9223372036854775807")] // attack: was a 500 at int.MaxValue (OverflowException on id + 1); ids are long positions now
    [InlineData("-5")] // attack: was a 200 and then a reset stream (a negative index into the event list)
    [InlineData("-2147483648")]
    [InlineData("99999999999999999999")]
    [InlineData("1.5")]
    [InlineData("abc")]
    [InlineData(" 1")]
    public async Task Events_BadLastEventId_Is400NamingTheHeader(string lastEventId)
    {
        using var client = _factory.CreateClient();
        var id = (string)(await (await client.PostRunAsync(new { language = "python", code = "print(1)", @async = true })).JsonAsync())["id"]!;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{id}/events");
        request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await response.JsonAsync();
        ((string?)problem["code"]).ShouldBe("invalid_request");
        ((string?)problem["errors"]![0]!["field"]).ShouldBe("Last-Event-ID");
    }

    [Theory]
    [InlineData("GET", "/v1/nope", null, 404, "not_found")]
    [InlineData("PUT", "/v1/runs", "{}", 405, "method_not_allowed")]
    [InlineData("POST", "/v1/runs", "language=python", 415, "unsupported_media_type")]
    public async Task FrameworkError_IsProblemWithTheReadmesCode(string method, string path, string? body, int status, string code)
    {
        using var client = _factory.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : new StringContent(body) };

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        ((int)response.StatusCode).ShouldBe(status);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await response.JsonAsync();
        ((string?)problem["code"]).ShouldBe(code);
        ((string?)problem["type"]).ShouldBe("urn:sandbox:problem:" + code);
    }

    // Each attack puts CR/LF, NUL, ESC and a right-to-left override where a problem echoes input back.
    [Theory]
    [InlineData("{\"language\": \"py\\r\\nthon\\u0000\\u001b[31m\\u202e\", \"code\": \"x\"}")] // the language, in detail and errors
    [InlineData("{\"language\": \"python\", \"code\": \"x\", \"pro\\r\\nfile\\u001b\\u202e\": 1}")] // an unknown field's name
    [InlineData("{\"language\": \"python\", \"code\": \"x\", \"profile\": \"a\\nb\\u0000\\u2066\"}")] // an unknown profile
    [InlineData("{\"language\": \"python\", \"code\": \"x\", \"files\": [{\"path\": \"a\\r\\n\\u001b\\u202e\", \"content\": \"\"}]}")] // a file path
    public async Task Post_HostileCharactersInInput_AreEscapedInTheProblem(string body)
    {
        using var client = _factory.CreateClient();

        using var response = await client.PostRawAsync(body);

        ((int)response.StatusCode).ShouldBeInRange(400, 499);
        ShouldHaveNoHiddenCharacters(await response.JsonAsync());
    }

    [Fact]
    public async Task Get_HostileRunId_IsEscapedInTheProblem()
    {
        using var client = _factory.CreateClient();

        using var response = await client.GetAsync("/v1/runs/run%0D%0A%1B%5B31m%E2%80%AE", TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        ShouldHaveNoHiddenCharacters(await response.JsonAsync());
    }

    private static void ShouldHaveNoHiddenCharacters(System.Text.Json.Nodes.JsonNode? node)
    {
        switch (node)
        {
            case System.Text.Json.Nodes.JsonObject o:
                foreach (var (_, value) in o)
                {
                    ShouldHaveNoHiddenCharacters(value);
                }

                break;
            case System.Text.Json.Nodes.JsonArray a:
                foreach (var value in a)
                {
                    ShouldHaveNoHiddenCharacters(value);
                }

                break;
            case System.Text.Json.Nodes.JsonValue v when v.TryGetValue<string>(out var text):
                text.ShouldNotContain(c => char.IsControl(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format, customMessage: text);
                break;
        }
    }

    [Fact]
    public async Task Post_BadIdempotencyKey_NamesTheHeader()
    {
        using var client = _factory.CreateClient();

        using var response = await client.PostRunAsync(new { language = "python", code = "print(1)" }, new string('k', 201));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        ((string?)(await response.JsonAsync())["errors"]![0]!["field"]).ShouldBe("Idempotency-Key");
    }
}
