using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Alerts;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Policy;

/// <summary>
/// The audit records of a run's life and of the guard's other decisions, built from facts and nothing else: pure
/// functions, so the step that writes one (a run's transition, a mint, a failed key) decides when, in which transaction.
/// </summary>
public static class AuditRecords
{
    /// <summary>
    /// The most characters of a caller-given text a record keeps when the caller cannot be trusted with its size: a refused
    /// or throttled request's purpose (validation never accepted it, so it can be megabytes), and the reason of a refusal,
    /// which may quote the request. Past it the text is cut, and the record says how long it was (and a field, its hash).
    /// </summary>
    internal const int MaxUncheckedTextChars = 1024;

    /// <summary>The same for a refused request's names (language, profile, backend, runtime) and file paths: a valid one is shorter.</summary>
    internal const int MaxUncheckedNameChars = RelativePath.MaxLength + 1;

    /// <summary>The files of a refused request listed at most (the rest counted): a valid request has at most <see cref="RunRequestValidator.MaxFiles"/>.</summary>
    internal const int MaxUncheckedFiles = 16;

    /// <remarks>
    /// <paramref name="withCode"/> is false for refused and throttled requests: they are recorded by hash and size only,
    /// so a caller the guard turns away cannot grow the audit log by up to the body cap per request. The same holds for
    /// every other field of such a request: each text is cut (<see cref="MaxUncheckedTextChars"/>,
    /// <see cref="MaxUncheckedNameChars"/>) and the files at <see cref="MaxUncheckedFiles"/> (a 7 MB profile name or
    /// 220,000 file entries grew the store by 7-25 MB per refusal). An admitted request was validated, so its record keeps
    /// every field whole.
    /// </remarks>
    public static AuditEntry Request(Principal principal, RunRequest request, string runId, string? resolvedProfile, string node, bool withCode)
    {
        // Refused requests were never validated: bounded, so the record of a refusal is small whatever was sent.
        var clipped = withCode ? null : new JsonObject();
        string? Text(string field, string? value, int max = MaxUncheckedNameChars) => clipped is null ? value : Clip(field, value, max, clipped);
        var files = request.Files;
        var keptFiles = files is null ? null : withCode ? files : files.Take(MaxUncheckedFiles).ToList();
        var data = new JsonObject
        {
            ["agent"] = principal.Agent.Name,
            ["node"] = node,
            ["credentialId"] = principal.Credential.Id,
            ["credentialKind"] = principal.IsTaskToken ? "task_token" : "agent_key",
            ["purpose"] = Text("purpose", request.Purpose, MaxUncheckedTextChars),
            ["language"] = Text("language", request.Language),
            ["profile"] = Text("profile", resolvedProfile ?? request.Profile),
            ["requestedProfile"] = Text("requestedProfile", request.Profile),
            ["backend"] = Text("backend", request.Backend),
            ["runtime"] = Text("runtime", request.Runtime),
            ["codeSha256"] = Sha256(request.Code),
            ["codeBytes"] = Encoding.UTF8.GetByteCount(request.Code),
            ["code"] = withCode ? request.Code : null,
            ["codeOmitted"] = withCode ? null : true,
            ["stdinSha256"] = request.Stdin is { } stdin ? Sha256(stdin) : null,
            ["files"] = keptFiles is null
                ? null
                : new JsonArray(keptFiles.Select((f, i) => (JsonNode?)new JsonObject
                {
                    ["path"] = Text($"files[{i}].path", f?.Path),
                    ["sha256"] = f?.Content is { } content ? Sha256(content) : null,
                    ["bytes"] = f?.Content is { } counted ? Encoding.UTF8.GetByteCount(counted) : 0,
                }).ToArray()),
            ["requestedLimits"] = request.Limits is { } limits ? Overrides(limits) : null,
        };
        if (files is not null && keptFiles!.Count < files.Count)
        {
            data["filesCount"] = files.Count;
            data["filesOmitted"] = files.Count - keptFiles.Count;
        }

        if (clipped is { Count: > 0 })
        {
            data["clipped"] = clipped;
        }

        return new AuditEntry { Kind = AuditKinds.Request, AgentId = principal.Agent.Id, RunId = runId, Status = "received", Data = data };
    }

    public static AuditEntry Decision(Principal principal, string runId, string status, string? code, string reason, string? cap = null) => new()
    {
        Kind = AuditKinds.Decision,
        AgentId = principal.Agent.Id,
        RunId = runId,
        Status = status,
        Data = new JsonObject { ["code"] = code, ["reason"] = Clip(reason), ["cap"] = cap },
    };

    /// <summary>The receipt: the effective plan, written before the code starts.</summary>
    public static AuditEntry Receipt(Principal principal, RunPlan plan, JsonObject? extra)
    {
        var data = new JsonObject
        {
            ["profile"] = plan.Profile.Name,
            ["backend"] = plan.Backend,
            ["runtime"] = plan.Runtime,
            ["image"] = plan.Backend == "docker" ? plan.Profile.Image : null,
            ["module"] = plan.Profile.Module is { } module ? Path.GetFileName(module) : null,
            // What exactly ran the code (issue 11, point 8): a replay runs this digest or nothing.
            ["imageDigest"] = plan.Backend == "docker" ? plan.ArtifactDigest : null,
            ["moduleSha256"] = plan.Backend == "docker" ? null : plan.ArtifactDigest,
            ["limits"] = Limits(plan.Limits),
            ["compileLimits"] = plan.Profile.Compile is { } compile ? Limits(compile.Limits) : null,
            ["credentialId"] = principal.Credential.Id,
        };
        Merge(data, extra);
        return new AuditEntry { Kind = AuditKinds.Receipt, AgentId = principal.Agent.Id, RunId = plan.RunId, Status = "planned", Data = data };
    }

    /// <summary>A run's one final record: status, usage, and the hashes and sizes of its output (never the output).</summary>
    public static AuditEntry Result(Principal principal, RunPlan plan, RunResult result, JsonObject? extra) =>
        Result(principal.Agent.Id, plan.RunId, result, extra);

    /// <summary>The same final record for a run known by its ids only (start-up recovery has no principal or plan in hand).</summary>
    public static AuditEntry Result(string agentId, string runId, RunResult result, JsonObject? extra)
    {
        var data = new JsonObject
        {
            ["exitCode"] = result.ExitCode,
            ["signal"] = result.Signal,
            ["message"] = result.Message,
            ["usage"] = new JsonObject
            {
                ["wallMs"] = result.Usage.WallMs,
                ["cpuMs"] = result.Usage.CpuMs,
                ["compileCpuMs"] = result.Usage.CompileCpuMs,
                ["peakMemoryBytes"] = result.Usage.PeakMemoryBytes,
                ["outputBytes"] = result.Usage.OutputBytes,
            },
            ["limitBreach"] = result.LimitBreach is { } breach ? new JsonObject { ["limit"] = breach.Limit, ["value"] = breach.Value, ["observed"] = breach.Observed } : null,
            ["stdoutSha256"] = Convert.ToHexStringLower(SHA256.HashData(result.StdoutBytes.Span)),
            ["stdoutBytes"] = result.StdoutBytes.Length,
            ["stdoutTruncated"] = result.StdoutTruncated,
            ["stderrSha256"] = Convert.ToHexStringLower(SHA256.HashData(result.StderrBytes.Span)),
            ["stderrBytes"] = result.StderrBytes.Length,
            ["stderrTruncated"] = result.StderrTruncated,
        };
        if (result.Artifacts is { Count: > 0 } artifacts)
        {
            // Each returned file's hash, so what the agent was handed can be checked against the record later.
            data["artifacts"] = new JsonArray([.. artifacts.Select(a => (JsonNode)new JsonObject
            {
                ["path"] = a.Path,
                ["sizeBytes"] = a.SizeBytes,
                ["sha256"] = a.Sha256,
                ["mediaType"] = a.MediaType,
            })]);
        }

        if (result.ArtifactsDropped is { Count: > 0 } dropped)
        {
            data["artifactsDropped"] = dropped.Count;
        }

        Merge(data, extra);
        return new AuditEntry { Kind = AuditKinds.Result, AgentId = agentId, RunId = runId, Status = result.Status.ToWireName(), Data = data };
    }

    /// <summary>A session opened: who, on what profile, runtime and image, with which limits (its container's, for its life).</summary>
    /// <remarks>
    /// <see cref="AuditEntry.RunId"/> holds the session's id, so <c>?run=ses_…</c> finds its open and close; <paramref name="node"/>
    /// is the node whose memory holds it, so another node sharing the store can tell a caller where it lives.
    /// </remarks>
    public static AuditEntry SessionOpened(Principal principal, string sessionId, RunPlan plan, DateTimeOffset expiresAt, string? node = null) => new()
    {
        Kind = AuditKinds.Session,
        AgentId = principal.Agent.Id,
        RunId = sessionId,
        Status = "opened",
        Data = new JsonObject
        {
            ["agent"] = principal.Agent.Name,
            ["credentialId"] = principal.Credential.Id,
            ["purpose"] = plan.Request.Purpose,
            ["language"] = plan.Profile.Language,
            ["profile"] = plan.Profile.Name,
            ["runtime"] = plan.Runtime,
            ["imageDigest"] = plan.ArtifactDigest,
            ["limits"] = Limits(plan.Limits),
            ["expiresAt"] = AuditChain.FormatTime(expiresAt),
            ["node"] = node,
        },
    };

    /// <summary>A session closed: <paramref name="cause"/> is a stable word (deleted, idle_timeout, idle_cpu, max_lifetime, revoked, shutdown), <paramref name="reason"/> the sentence.</summary>
    public static AuditEntry SessionClosed(string agentId, string sessionId, string cause, string reason, int cells, int restarts, long idleCpuMs) => new()
    {
        Kind = AuditKinds.Session,
        AgentId = agentId,
        RunId = sessionId,
        Status = "closed",
        Data = new JsonObject { ["cause"] = cause, ["reason"] = reason, ["cells"] = cells, ["restarts"] = restarts, ["idleCpuMs"] = idleCpuMs },
    };

    /// <summary>A run that has no result after a restart: the process died under it.</summary>
    public static AuditEntry Interrupted(OpenRun run, string reason) => new()
    {
        Kind = AuditKinds.Result,
        AgentId = run.AgentId,
        RunId = run.RunId,
        Status = "interrupted",
        Data = new JsonObject { ["reason"] = reason, ["lastStage"] = run.Stage },
    };

    /// <summary>An approved run refused because what would run is not what was approved.</summary>
    public static AuditEntry ApprovalMismatch(Principal principal, string runId, Approval approval, string reason)
    {
        var refused = Decision(principal, runId, "rejected", "approval_mismatch", reason);
        refused.Data["approvalId"] = approval.Id;
        refused.Data["approvedSha256"] = approval.RequestSha256;
        return refused;
    }

    /// <summary>An approval closed by the system (expired, or withdrawn because its run ended).</summary>
    public static AuditEntry ApprovalClosed(Approval approval, string note) => new()
    {
        Kind = AuditKinds.Approval,
        AgentId = approval.AgentId,
        RunId = approval.RunId,
        Status = "expired",
        Data = new JsonObject { ["approvalId"] = approval.Id, ["by"] = "system", ["note"] = note },
    };

    public static AuditEntry Alert(Alert alert, bool heldAgent) => new()
    {
        Kind = AuditKinds.Alert,
        AgentId = alert.AgentId,
        Status = alert.Detector,
        Data = new JsonObject { ["summary"] = alert.Summary, ["details"] = alert.Details.DeepClone(), ["heldAgent"] = heldAgent },
    };

    /// <summary>The agent put under approval by a detector, recorded as an operator's action would be.</summary>
    public static AuditEntry Hold(Alert alert) => new()
    {
        Kind = AuditKinds.Admin,
        AgentId = alert.AgentId,
        Status = "approval_hold_set",
        Data = new JsonObject { ["actor"] = "detector:" + alert.Detector, ["reason"] = alert.Summary },
    };

    public static AuditEntry AuthFailure(string code, string action, string reason) => new()
    {
        Kind = AuditKinds.Auth,
        Status = code,
        Data = new JsonObject { ["action"] = action, ["reason"] = Clip(reason) },
    };

    /// <summary>The count of failed authentications past the per-minute cap, as one record.</summary>
    internal static AuditEntry AuthSuppressed(SuppressedRecords suppressed, int perMinute) => new()
    {
        Kind = AuditKinds.Auth,
        Status = "suppressed",
        Data = Suppressed(suppressed, $"more than {perMinute} failed authentications in a minute; the rest are counted here, not recorded one by one"),
    };

    /// <summary>The count of one agent's refused requests past the per-minute cap, as one record.</summary>
    internal static AuditEntry RefusalsSuppressed(string agentId, SuppressedRecords suppressed, int perMinute) => new()
    {
        Kind = AuditKinds.Decision,
        AgentId = agentId,
        Status = "suppressed",
        Data = Suppressed(suppressed, $"more than {perMinute} refused requests of this agent in a minute; the rest are counted here by code, not recorded one by one"),
    };

    private static JsonObject Suppressed(SuppressedRecords suppressed, string reason)
    {
        var byCode = new JsonObject();
        foreach (var (code, count) in suppressed.ByCode.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            byCode[code] = count;
        }

        return new JsonObject
        {
            ["count"] = suppressed.Count,
            ["byCode"] = byCode,
            ["from"] = AuditChain.FormatTime(suppressed.WindowStart),
            ["to"] = AuditChain.FormatTime(suppressed.WindowEnd),
            ["reason"] = reason,
        };
    }

    /// <summary>A refused or throttled mint (<paramref name="status"/> <c>rejected</c> or <c>throttled</c>).</summary>
    public static AuditEntry MintRefused(Agent agent, string status, string reason, string? cap)
    {
        var data = new JsonObject { ["action"] = "mint_token" };
        if (cap is not null)
        {
            data["code"] = "cap_exceeded";
        }

        data["reason"] = Clip(reason);
        if (cap is not null)
        {
            data["cap"] = cap;
        }

        return new AuditEntry { Kind = AuditKinds.Decision, AgentId = agent.Id, Status = status, Data = data };
    }

    public static AuditEntry TokenMinted(Agent agent, Credential token) => new()
    {
        Kind = AuditKinds.Admin,
        AgentId = agent.Id,
        Status = "token_minted",
        Data = new JsonObject
        {
            ["actor"] = "agent:" + agent.Name,
            ["tokenId"] = token.Id,
            ["parentKeyId"] = token.ParentId,
            ["profiles"] = new JsonArray(token.Profiles!.Select(p => (JsonNode?)JsonValue.Create(p)).ToArray()),
            ["expiresAt"] = AuditChain.FormatTime(token.ExpiresAt),
            ["maxRuns"] = token.MaxRuns,
            ["cpuSeconds"] = token.CpuSeconds,
            ["purpose"] = token.Purpose,
        },
    };

    public static string Sha256(string text)
    {
        // In slices through one small buffer: a request's code can be megabytes, and it is hashed several times (request,
        // detectors, approval), each a whole UTF-8 copy on the large-object heap before.
        const int Slice = 4096;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var encoder = Encoding.UTF8.GetEncoder();
        Span<byte> bytes = stackalloc byte[(Slice * 3) + 8];
        var rest = text.AsSpan();
        while (true)
        {
            var take = Math.Min(Slice, rest.Length);
            if (take < rest.Length && char.IsHighSurrogate(rest[take - 1]))
            {
                take--;
            }

            var written = encoder.GetBytes(rest[..take], bytes, flush: take == rest.Length);
            hash.AppendData(bytes[..written]);
            rest = rest[take..];
            if (rest.IsEmpty)
            {
                return Convert.ToHexStringLower(hash.GetHashAndReset());
            }
        }
    }

    /// <summary>
    /// A reason that may quote what a caller sent (an invalid request's errors name its values), cut at
    /// <see cref="MaxUncheckedTextChars"/> with its whole length said.
    /// </summary>
    internal static string Clip(string reason) =>
        reason.Length <= MaxUncheckedTextChars
            ? reason
            : string.Concat(reason.AsSpan(0, CutAt(reason, MaxUncheckedTextChars)), $"… (cut here: {reason.Length} characters in all)");

    private static string? Clip(string field, string? text, int max, JsonObject clipped)
    {
        if (text is null || text.Length <= max)
        {
            return text;
        }

        clipped[field] = new JsonObject { ["chars"] = text.Length, ["sha256"] = Sha256(text) };
        return text[..CutAt(text, max)] + "…";
    }

    // Never between the halves of a surrogate pair, so the kept text is still whole characters.
    private static int CutAt(string text, int max) => char.IsHighSurrogate(text[max - 1]) ? max - 1 : max;

    private static void Merge(JsonObject data, JsonObject? extra)
    {
        foreach (var (key, value) in extra ?? [])
        {
            data[key] = value?.DeepClone();
        }
    }

    private static JsonObject Limits(ResourceLimits limits)
    {
        var o = new JsonObject();
        foreach (var (name, value) in limits.Enumerate())
        {
            o[name] = value;
        }

        return o;
    }

    private static JsonObject Overrides(LimitOverrides o) => new()
    {
        [LimitNames.WallTimeMs] = o.WallTimeMs,
        [LimitNames.CpuTimeMs] = o.CpuTimeMs,
        [LimitNames.MemoryBytes] = o.MemoryBytes,
        [LimitNames.Pids] = o.Pids,
        [LimitNames.StdoutBytes] = o.StdoutBytes,
        [LimitNames.StderrBytes] = o.StderrBytes,
        [LimitNames.FileSizeBytes] = o.FileSizeBytes,
        [LimitNames.TmpBytes] = o.TmpBytes,
    };
}
