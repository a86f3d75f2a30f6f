using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace Sandbox.Server.OpenApi;

/// <summary>An example request and answer for each operation, and for each problem status, as the service writes them.</summary>
internal static class OpenApiExamples
{
    private const string Run = """{"id":"run_01jcz8k2v6","state":"completed","createdAt":"2026-01-05T10:00:00+00:00","startedAt":"2026-01-05T10:00:00.010+00:00","completedAt":"2026-01-05T10:00:00.420+00:00","queueMs":10,"runMs":410,"result":{"runId":"run_01jcz8k2v6","status":"ok","exitCode":0,"stdout":"hello\n","stdoutTruncated":false,"stderr":"","stderrTruncated":false,"usage":{"wallTimeMs":380,"cpuTimeMs":40,"peakMemoryBytes":9437184},"language":"python","backend":"docker","profile":"python"},"agent":"my-agent"}""";
    private const string Pending = """{"id":"run_01jcz8k2v6","state":"queued","createdAt":"2026-01-05T10:00:00+00:00","agent":"my-agent"}""";
    private const string Agent = """{"id":"agt_01jcz8","name":"my-agent","profiles":["python","javascript"],"ratePerMinute":60,"maxConcurrentRuns":2,"dailyCpuSeconds":3600,"dailyRuns":1000,"createdAt":"2026-01-05T10:00:00+00:00","onHold":false}""";
    private const string Approval = """{"id":"apr_01jcz8","runId":"run_01jcz8k2v6","agent":"my-agent","state":"approved","reason":"the agent is on hold","createdAt":"2026-01-05T10:00:00+00:00","expiresAt":"2026-01-05T11:00:00+00:00","decidedBy":"admin:alice"}""";
    private const string Issued = """{"agent":{"id":"agt_01jcz8","name":"my-agent","profiles":["python"]},"key":"sbxa_3kq9…"}""";
    private const string Limits = """{"wallTimeMs":10000,"cpuTimeMs":10000,"memoryBytes":268435456,"maxProcesses":64,"maxOutputBytes":1048576}""";

    private static readonly Dictionary<string, (string? Request, string Status, string Response)> s_operations = new(StringComparer.Ordinal)
    {
        ["CreateRun"] = ("""{"language":"python","code":"print('hello')","purpose":"check the greeting"}""", "200", Run),
        ["GetRun"] = (null, "200", Run),
        ["CancelRun"] = (null, "200", Run.Replace("\"status\":\"ok\",\"exitCode\":0", "\"status\":\"cancelled\",\"exitCode\":null", StringComparison.Ordinal)),
        ["MintTaskToken"] = ("""{"profiles":["python"],"ttlSeconds":900,"maxRuns":10,"cpuSeconds":60,"purpose":"one task"}""", "200", """{"token":"sbxt_8f2k…","id":"cred_01jcz9","agent":"my-agent","profiles":["python"],"expiresAt":"2026-01-05T10:15:00+00:00","maxRuns":10,"cpuSeconds":60}"""),
        ["WhoAmI"] = (null, "200", """{"agent":{"id":"agt_01jcz8","name":"my-agent","profiles":["python"]},"credential":{"id":"cred_01jcz8","kind":"key"},"budgets":[{"name":"daily_runs","limit":1000,"used":12,"remaining":988}]}"""),
        ["ListLanguages"] = (null, "200", $$"""[{"language":"python","defaultProfile":"python","backend":"docker","profiles":["python","python-gvisor","python-wasm"],"limits":{{Limits}}}]"""),
        ["ListProfiles"] = (null, "200", $$"""[{"name":"python","language":"python","backend":"docker","image":"sandbox/python:latest","limits":{{Limits}}}]"""),
        ["GetProfile"] = (null, "200", $$"""{"name":"python","language":"python","backend":"docker","image":"sandbox/python:latest","limits":{{Limits}}}"""),
        ["ListTools"] = (null, "200", """[{"name":"run_code","description":"Run a program in a sandbox and return its output.","parameters":{"type":"object","required":["language","code"]}}]"""),
        ["Health"] = (null, "200", """{"name":"alive","ok":true,"detail":"the process is serving requests"}"""),
        ["Ready"] = (null, "200", """{"ready":true,"checks":[{"name":"docker","ok":true,"detail":"the daemon answers"}]}"""),
        ["Metrics"] = (null, "200", "\"# TYPE sandbox_runs_total counter\\nsandbox_runs_total{profile=\\\"python\\\",status=\\\"ok\\\"} 12\\n\""),
        ["CreateAgent"] = ("""{"name":"my-agent","profiles":["python"],"ratePerMinute":60,"maxConcurrentRuns":2}""", "201", Issued),
        ["ListAgents"] = (null, "200", $"[{Agent}]"),
        ["ShowAgent"] = (null, "200", $$"""{"agent":{{Agent}},"credentials":[]}"""),
        ["RotateKey"] = (null, "200", Issued),
        ["RevokeAgent"] = ("""{"reason":"leaked key","by":"alice"}""", "200", """{"agent":"my-agent","revoked":true,"runsKilled":1}"""),
        ["HoldAgent"] = ("""{"reason":"reviewing its runs","by":"alice"}""", "200", Agent),
        ["ReleaseAgent"] = (null, "200", Agent),
        ["ListApprovals"] = (null, "200", $"[{Approval}]"),
        ["Approve"] = ("""{"note":"looks fine","by":"alice"}""", "200", Approval),
        ["Deny"] = ("""{"note":"not this one","by":"alice"}""", "200", Approval.Replace("approved", "denied", StringComparison.Ordinal)),
        ["QueryAudit"] = (null, "200", """[{"sequence":42,"at":"2026-01-05T10:00:00+00:00","kind":"run_completed","agent":"my-agent","runId":"run_01jcz8k2v6"}]"""),
        ["VerifyAudit"] = (null, "200", """{"ok":true,"records":42}"""),
    };

    private static readonly Dictionary<string, (string Code, string Detail)> s_problems = new(StringComparer.Ordinal)
    {
        ["400"] = ("invalid_request", "language: is required; GET /v1/languages lists the choices"),
        ["401"] = ("missing_key", "send the agent key as `Authorization: Bearer <key>`"),
        ["403"] = ("profile_not_allowed", "profile 'c' is not on this key's allow-list (python)"),
        ["404"] = ("run_not_found", "no run 'run_x' is known here; results are kept for a limited time after they complete"),
        ["409"] = ("run_completed", "run run_x completed before it could be cancelled; GET /v1/runs/run_x has its result"),
        ["413"] = ("body_too_large", "the body is over 1048576 bytes, the most this service accepts; send less code, stdin or files"),
        ["422"] = ("unknown_language", "no language 'cobol'; GET /v1/languages lists them"),
        ["429"] = ("cap_exceeded", "over the agent's rate of 60 runs a minute; try again in 12 s"),
        ["503"] = ("queue_full", "the run queue is full; try again shortly"),
    };

    public static void Apply(OpenApiOperation operation)
    {
        if (operation.OperationId is { } id && s_operations.TryGetValue(id, out var example))
        {
            if (example.Request is { } request && operation.RequestBody?.Content?.TryGetValue("application/json", out var body) == true)
            {
                body.Example = JsonNode.Parse(request);
            }

            if (operation.Responses?.TryGetValue(example.Status, out var response) == true && response.Content is { } content)
            {
                foreach (var media in content.Values.Where(m => m.Example is null))
                {
                    media.Example = JsonNode.Parse(example.Response);
                }
            }
        }

        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (s_problems.TryGetValue(status, out var problem) && response.Content?.TryGetValue("application/problem+json", out var media) == true)
            {
                media.Example = new JsonObject
                {
                    ["type"] = "urn:sandbox:problem:" + problem.Code,
                    ["title"] = problem.Code.Replace('_', ' '),
                    ["status"] = int.Parse(status, System.Globalization.CultureInfo.InvariantCulture),
                    ["detail"] = problem.Detail,
                    ["instance"] = "/v1/runs",
                    ["code"] = problem.Code,
                };
            }
        }
    }
}
