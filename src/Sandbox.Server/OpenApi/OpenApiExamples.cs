using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Guard.Policy;
using Sandbox.Server.Hosting;
using Sandbox.Server.Http;
using Sandbox.Server.Runs;

namespace Sandbox.Server.OpenApi;

/// <summary>
/// An example request and answer for each operation, and one for each problem status. Answers are the service's own
/// types serialized with its own JSON context (the catalog's from this host's profiles), so an example cannot drift
/// from the schema it illustrates; the linter checks each against its schema.
/// </summary>
internal static class OpenApiExamples
{
    private static readonly DateTimeOffset s_at = new(2026, 1, 5, 10, 0, 0, TimeSpan.Zero);

    private static readonly ResourceLimits s_limits = new()
    {
        WallTimeMs = 10_000, CpuTimeMs = 10_000, MemoryBytes = 256 << 20, Pids = 64, StdoutBytes = 1 << 20, StderrBytes = 1 << 20, FileSizeBytes = 16 << 20, TmpBytes = 64 << 20,
    };

    private static readonly AgentView s_agent = new()
    {
        Id = "agt_01jcz8", Name = "my-agent", State = "active", Profiles = ["python", "javascript"], RatePerMinute = 60, MaxConcurrentRuns = 2,
        DailyCpuSeconds = 3600, DailyRuns = 1000, MaxSessionMemoryMb = 1024, MaxOpenSessions = 4, DailyStoredMb = 1024, CreatedAt = s_at, ExpiresAt = s_at.AddDays(90),
    };

    private static readonly Budget[] s_budgets = [new(CapNames.DailyRuns, 1000, 12, 988, s_at.Date.AddDays(1))];

    private static RunView Run(RunStatus status) => new()
    {
        Id = "run_01jcz8k2v6", State = "completed", CreatedAt = s_at, StartedAt = s_at.AddMilliseconds(10), CompletedAt = s_at.AddMilliseconds(420), QueueMs = 10, RunMs = 410,
        Result = new RunResult
        {
            RunId = "run_01jcz8k2v6", Status = status, ExitCode = status == RunStatus.Ok ? 0 : null, Stdout = "hello\n", Stderr = "",
            Usage = new ResourceUsage { WallMs = 380, CpuMs = 40, PeakMemoryBytes = 9 << 20, OutputBytes = 6 }, Limits = s_limits,
            Language = "python", Backend = "docker", Profile = "python", Runtime = "runsc",
            Artifacts = status == RunStatus.Ok
                ? [new RunArtifact { Path = "figure-1.png", SizeBytes = 18432, Sha256 = "9b74c9897bac770ffc029102a200c5de9b74c9897bac770ffc029102a200c5de", MediaType = "image/png" }]
                : null,
        },
        OutputDropped = false, Agent = "my-agent", Budgets = s_budgets,
    };

    private static ApprovalAdminView Approval(string state) => new()
    {
        Id = "apr_01jcz8", State = state, RunId = "run_01jcz8k2v6", Agent = "my-agent", Profile = "python", Language = "python", Purpose = "check the greeting",
        Reason = "the agent is under approval", CodeSha256 = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b", Code = "print('hello')",
        Files = [], CreatedAt = s_at, ExpiresAt = s_at.AddHours(1), DecidedBy = state == "pending" ? null : "admin:alice", DecidedAt = state == "pending" ? null : s_at.AddMinutes(3),
    };

    private static JsonNode Json<T>(T value) => JsonSerializer.SerializeToNode(value, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)ServerJsonContext.Default.GetTypeInfo(typeof(T))!)!;

    private static (string? Request, string Status, JsonNode? Response) For(string operationId, IServiceProvider services)
    {
        var profiles = services.GetService<RunLifecycle>()?.Pipeline.Profiles;
        var issued = new IssuedKeyView(s_agent, "sbxa_3kq9examplekey", "key_01jcz8", "this key is shown once and stored only as a hash; keep it now");
        return operationId switch
        {
            "CreateRun" => ("""{"language":"python","code":"print('hello')","purpose":"check the greeting"}""", "200", Json(Run(RunStatus.Ok))),
            "GetRun" => (null, "200", Json(Run(RunStatus.Ok))),
            "CancelRun" => (null, "200", Json(Run(RunStatus.Cancelled))),
            "MintTaskToken" => ("""{"profiles":["python"],"ttlSeconds":900,"maxRuns":10,"cpuSeconds":60,"purpose":"one task"}""", "200",
                Json(new TokenView("sbxt_8f2kexampletoken", "cred_01jcz9", "my-agent", ["python"], s_at.AddMinutes(15), 10, 60))),
            "WhoAmI" => (null, "200", Json(new MeView(s_agent, new CredentialView("key_01jcz8", "agent_key", s_at, s_at.AddDays(90), null, null, null, null), s_budgets))),
            "ListLanguages" when profiles is not null => (null, "200", Json(Catalog.Languages(profiles, new HashSet<string>()).Take(1).ToList() as IReadOnlyList<LanguageView>)),
            "ListProfiles" when profiles is not null => (null, "200", Json(profiles.All.OrderBy(p => p.Name, StringComparer.Ordinal).Take(1).ToList() as IReadOnlyList<Core.Profiles.Profile>)),
            "GetProfile" when profiles is not null => (null, "200", Json(profiles.All.OrderBy(p => p.Name, StringComparer.Ordinal).First())),
            "Health" => (null, "200", Json(new ReadinessCheck("alive", true, "the process is serving requests"))),
            "Ready" => (null, "200", Json(new ReadinessReport(true, [new ReadinessCheck("docker", true, "the daemon answers")]))),
            "CreateAgent" => ("""{"name":"my-agent","profiles":["python","javascript"],"ratePerMinute":60,"maxConcurrentRuns":2}""", "201", Json(issued)),
            "ListAgents" => (null, "200", Json(new[] { s_agent } as IReadOnlyList<AgentView>)),
            "ShowAgent" => (null, "200", Json(new AgentDetailView(s_agent, [new CredentialView("key_01jcz8", "agent_key", s_at, s_at.AddDays(90), null, null, null, null)]))),
            "RotateKey" => ("""{"reason":"scheduled rotation","by":"alice"}""", "200", Json(issued)),
            "RevokeAgent" => ("""{"reason":"leaked key","by":"alice"}""", "200", Json(new RevokedView(s_agent with { State = "revoked", RevokedAt = s_at, RevokedReason = "leaked key" }, 1))),
            "HoldAgent" => ("""{"reason":"reviewing its runs","by":"alice"}""", "200", Json(s_agent with { State = "under_approval", UnderApproval = true, UnderApprovalReason = "reviewing its runs" })),
            "ReleaseAgent" => ("""{"reason":"review done","by":"alice"}""", "200", Json(s_agent)),
            "ListApprovals" => (null, "200", Json(new[] { Approval("pending") } as IReadOnlyList<ApprovalAdminView>)),
            "Approve" => ("""{"note":"looks fine","by":"alice"}""", "200", Json(Approval("approved"))),
            "Deny" => ("""{"note":"not this one","by":"alice"}""", "200", Json(Approval("denied"))),
            "ReplayRun" => (null, "200", Json(new ReplayView
            {
                Original = "run_01jcz8k2v6",
                Replay = "run_01jcz9m4x8",
                ArtifactDigest = "sha256:41d8cd98f00b204e9800998ecf8427e941d8cd98f00b204e9800998ecf8427e9",
                Identical = false,
                Differences = [new ReplayDifference { Field = "stdout", Diff = ["@@ line 2 @@", "-0.8444218515250481", "+0.7579544029403025"] }],
                OriginalRun = Run(RunStatus.Ok),
                ReplayRun = Run(RunStatus.Ok) with { Id = "run_01jcz9m4x8" },
            })),
            "QueryAudit" => (null, "200", Json(new[] { new AuditRecordView(42, s_at, "run_completed", "agt_01jcz8", "run_01jcz8k2v6", "ok", new JsonObject { ["cpuMs"] = 40 }, "9f2c…", "41d8…") } as IReadOnlyList<AuditRecordView>)),
            "ListTools" when profiles is not null => (null, "200", JsonNode.Parse(Tools.ToolCatalog.Json(Catalog.Languages(profiles, new HashSet<string>()), Mcp.ProfileCeiling.From(profiles)))),
            "GetRunArtifact" => (null, "200", JsonValue.Create("x,y\n1,1\n2,4\n")),
            "Metrics" => (null, "200", services.GetService<Metrics.SandboxMetrics>() is { } metrics ? JsonValue.Create(metrics.Render()) : null),
            "VerifyAudit" => (null, "200", JsonSerializer.SerializeToNode(
                new AuditVerificationView(true, 42, "41d8cd98f00b204e9800998ecf8427e941d8cd98f00b204e9800998ecf8427e9", "42:41d8cd98f00b204e9800998ecf8427e941d8cd98f00b204e9800998ecf8427e9", 0, null, null),
                services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions)),
            _ => Sessions.SessionExamples.For(operationId) ?? (null, "200", null),
        };
    }

    private static readonly Dictionary<string, (string Code, string Detail)> s_problems = new(StringComparer.Ordinal)
    {
        ["400"] = ("invalid_request", "language: is required; GET /v1/languages lists the choices"),
        ["401"] = ("missing_key", "send the agent key as `Authorization: Bearer <key>`"),
        ["403"] = ("profile_not_allowed", "profile 'c' is not on this key's allow-list (python)"),
        ["404"] = ("not_found", "no such resource; results are kept for a limited time after they complete"),
        ["409"] = ("conflict", "not possible in the current state"),
        ["413"] = ("body_too_large", "the body is over 1048576 bytes, the most this service accepts; send less code, stdin or files"),
        ["422"] = ("unknown_language", "no language 'cobol'; GET /v1/languages lists them"),
        ["429"] = ("cap_exceeded", "over the agent's rate of 60 runs a minute; try again in 12 s"),
        ["503"] = ("queue_full", "the run queue is full; try again shortly"),
    };

    public static void Apply(OpenApiOperation operation, string path, IServiceProvider services)
    {
        if (operation.OperationId is { } id)
        {
            var (request, status, answer) = For(id, services);
            if (request is not null && operation.RequestBody?.Content?.TryGetValue("application/json", out var body) == true)
            {
                body.Example = JsonNode.Parse(request);
            }

            if (answer is not null && operation.Responses?.TryGetValue(status, out var response) == true && response.Content?.Values.FirstOrDefault() is { } media)
            {
                media.Example = answer;
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
                    ["instance"] = path,
                    ["code"] = problem.Code,
                };
            }
        }
    }
}
