using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Sandbox.Server.IntegrationTests.Mcp;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Fuzz;

/// <summary>
/// The fuzzer's MCP half: seeded hostile <c>tools/call run_code</c> requests (<see cref="McpFuzzGenerator"/>) as raw
/// lines into a real <c>sandbox mcp</c> process. Every answer must be a well-formed JSON-RPC response for its id, a
/// refusal must be an error (or a result with isError) naming the field when the attack has one, no answer may carry a
/// host path or a stack trace, the process must live through all of it, and its RSS must stay within
/// <see cref="RssGrowthBoundBytes"/> of where it started. Bounded for CI at <see cref="DefaultRequests"/> requests or
/// <see cref="DefaultSeconds"/> seconds; <c>SANDBOX_MCP_FUZZ_REQUESTS</c>, <c>SANDBOX_MCP_FUZZ_SECONDS</c> and
/// <c>SANDBOX_FUZZ_SEED</c> make a longer or a repeated run.
/// </summary>
[Trait("Category", "Integration")]
public sealed partial class McpFuzzTests
{
    private const int DefaultRequests = 1000;
    private const int DefaultSeconds = 8;

    /// <summary>The refusals keep nothing; a few small runs and the SDK's buffers are what may remain.</summary>
    private const long RssGrowthBoundBytes = 96L * 1024 * 1024;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Fuzz_RunCodeArguments_EveryAnswerWellFormedNamingTheFieldNoLeaksBoundedMemory()
    {
        var requests = Setting("SANDBOX_MCP_FUZZ_REQUESTS", DefaultRequests);
        var seconds = Setting("SANDBOX_MCP_FUZZ_SECONDS", DefaultSeconds);
        var seed = Setting("SANDBOX_FUZZ_SEED", Random.Shared.Next(1, int.MaxValue));
        await using var server = McpProcess.Start();
        await server.InitializeAsync(Token);
        var languages = await server.CallToolAsync("list_languages", [], Token);
        if (languages["structuredContent"]?["languages"]?.AsArray().Any(l => (string?)l?["language"] == "bash" && (string?)l?["backend"] == "docker") != true)
        {
            // The refusals the fuzz expects by field come from bash's Docker profile; without Docker they would not.
            const string Problem = "Docker is not reachable (bash is not served by the docker backend); start Docker and run `make images`";
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail(Problem + " (CI=true: integration tests never skip on CI)");
            }

            Assert.Skip(Problem + " (skipped locally; on CI this fails)");
        }

        var rssBefore = server.ResidentBytes();

        var generator = new McpFuzzGenerator(seed);
        var failures = new List<string>();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        var sent = 0;
        for (; sent < requests && clock.Elapsed < TimeSpan.FromSeconds(seconds); sent++)
        {
            var request = generator.Next(sent);
            var answer = await server.RawRequestAsync(request.Line, Token);
            var kind = Check(request, answer, server.DataDirectory!) is { } problem && failures.Count < 20
                ? Fail(failures, $"request {sent} [{request.Mutation}]: {problem}\n--- answer\n{Cut(answer.ToJsonString())}\n--- stderr tail\n{Cut(server.Stderr[^Math.Min(server.Stderr.Length, 2000)..])}")
                : Kind(answer);
            counts[kind] = counts.GetValueOrDefault(kind) + 1;
        }

        var rssAfter = server.ResidentBytes();
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"mcp fuzz: seed {seed}, {sent} requests in {clock.Elapsed.TotalSeconds:F1} s ({string.Join(", ", counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}"))}); "
            + $"failures {failures.Count}; RSS before {rssBefore / 1048576} MiB, after {rssAfter / 1048576} MiB (bound +{RssGrowthBoundBytes / 1048576} MiB), peak {server.ResidentBytes(peak: true) / 1048576} MiB");
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        var results = Path.Join(RepositoryRoot.Path, "artifacts", "test-results");
        Directory.CreateDirectory(results);
        await File.AppendAllTextAsync(Path.Join(results, "fuzz-summary.txt"), summary + Environment.NewLine, Token);

        failures.ShouldBeEmpty($"{summary}\nrepeat with SANDBOX_FUZZ_SEED={seed}\n\n{string.Join("\n\n", failures)}");
        server.IsRunning.ShouldBeTrue("sandbox mcp must live through the fuzz");
        (rssAfter - rssBefore).ShouldBeLessThan(RssGrowthBoundBytes, summary);
        // A low floor: a Docker daemon that stalls mid-run slows the refusals the validator makes after a plan, not their checks.
        sent.ShouldBeGreaterThan(Math.Min(requests, 10), "the fuzz must really send requests");
    }

    /// <summary>What is wrong with the answer to one request, or null.</summary>
    private static string? Check(McpFuzzRequest request, JsonNode answer, string dataDirectory)
    {
        var text = answer.ToJsonString();
        foreach (var path in new[] { dataDirectory, RepositoryRoot.Path, "/root/", "/home/", "docker.sock" })
        {
            if (text.Contains(path, StringComparison.Ordinal))
            {
                return "the answer carries the host path " + path;
            }
        }

        if (LeakPattern().Match(text) is { Success: true } leak)
        {
            return $"the answer carries '{leak.Value}'";
        }

        if (answer["error"] is JsonObject error)
        {
            if (request.Valid)
            {
                return "a valid request was refused";
            }

            var message = (string?)error["message"] ?? "";
            if (error["code"] is null || message.Length == 0)
            {
                return "a JSON-RPC error without a code and message";
            }

            if ((int?)error["code"] == -32603)
            {
                return "an internal error (-32603): the input crashed a handler";
            }

            return request.ExpectField is { } field && !message.StartsWith(field, StringComparison.Ordinal) ? $"the error does not name {field}" : null;
        }

        if (answer["result"] is not JsonObject result)
        {
            return "neither a result nor an error";
        }

        var isError = (bool?)result["isError"] == true;
        if (request.Valid)
        {
            return isError ? "a valid request ended in an error" : null;
        }

        if (!isError)
        {
            return "a hostile request was not refused";
        }

        if (request.ExpectField is { } expected)
        {
            var fields = (result["structuredContent"]?["errors"] as JsonArray ?? []).Select(e => (string?)e?["field"] ?? "").ToList();
            if (!fields.Any(f => f.StartsWith(expected, StringComparison.Ordinal)))
            {
                return $"the refusal names [{string.Join(", ", fields)}], not {expected}";
            }
        }

        return null;
    }

    private static string Kind(JsonNode answer) =>
        answer["error"] is JsonObject error ? $"error {(int?)error["code"]}" : (bool?)answer["result"]?["isError"] == true ? "isError" : "ok";

    private static string Fail(List<string> failures, string failure)
    {
        failures.Add(failure);
        return "FAILED";
    }

    private static string Cut(string text) => text.Length > 2048 ? text[..2048] + "…" : text;

    [GeneratedRegex(@"\bat [A-Z][\w.`]+\.[\w<>`|]+\(|\.cs:line \d+|(?:System|Sandbox|Microsoft|ModelContextProtocol)\.[\w.]*Exception\b|Unhandled exception|Error response from daemon")]
    private static partial Regex LeakPattern();

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
