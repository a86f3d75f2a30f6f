using System.Text;

namespace Sandbox.Server.IntegrationTests.Fuzz;

/// <summary>JSON bodies: a valid template with one field given a hostile value, or the whole body broken.</summary>
internal sealed partial class FuzzGenerator
{
    private static readonly string[] s_runFields =
    [
        "language", "code", "stdin", "files", "files[0].path", "files[0].content", "profile", "limits", "limits.wallTimeMs", "limits.cpuTimeMs",
        "limits.memoryBytes", "limits.pids", "limits.stdoutBytes", "limits.stderrBytes", "limits.fileSizeBytes", "limits.tmpBytes", "runtime",
        "backend", "purpose", "async", "dryRun", "rawOutput", "unknownField",
    ];

    private static readonly string[] s_tokenFields = ["profiles", "profiles[0]", "ttlSeconds", "maxRuns", "cpuSeconds", "purpose", "unknownField"];

    private static readonly string[] s_agentFields = ["name", "profiles", "profiles[0]", "ratePerMinute", "maxConcurrentRuns", "dailyCpuSeconds", "dailyRuns", "maxSessionMemoryMb", "maxOpenSessions", "dailyStoredMb", "expiresInDays", "unknownField"];

    private FuzzRequest RunBody(Random random)
    {
        // Dry runs validate everything and run nothing; a few mutated bodies may really run, within the budget.
        var dryRun = random.Next(10) > 0 || !TakeRealRun();
        var fields = new List<(string Name, string Json)>
        {
            ("language", "\"bash\""),
            ("code", "\"echo fuzz\""),
            ("purpose", "\"fuzz\""),
            ("limits", "{\"wallTimeMs\":5000}"),
            ("files", "[{\"path\":\"a.txt\",\"content\":\"x\"}]"),
        };
        if (dryRun)
        {
            fields.Add(("dryRun", "true"));
        }

        var (body, mutation) = MutateBody(random, fields, s_runFields);
        return Http("run-body", mutation, "POST", "/v1/runs", AgentAuth(), body, "application/json") with { IsRunPost = true };
    }

    private FuzzRequest TokenBody(Random random)
    {
        var (body, mutation) = MutateBody(random, [("profiles", "[\"bash\"]"), ("ttlSeconds", "60"), ("maxRuns", "1"), ("purpose", "\"fuzz\"")], s_tokenFields);
        return Http("token-body", mutation, "POST", "/v1/tokens", AgentAuth(), body, "application/json");
    }

    private FuzzRequest Admin(Random random)
    {
        var auth = random.Next(4) switch
        {
            0 => [],
            1 => [("Authorization", "Bearer " + Pick(random, ["wrong", _agentKey, _adminKey + "x", _adminKey.ToUpperInvariant(), "", _adminKey[..^1]]))],
            _ => new List<(string, string)> { ("Authorization", "Bearer " + _adminKey) },
        };
        var id = random.Next(3) == 0 ? PathJunk(random) : "agt_" + random.Next();
        if (random.Next(3) == 0)
        {
            var (body, mutation) = MutateBody(random, [("name", "\"fuzz-" + random.Next() + "\""), ("profiles", "[\"bash\"]"), ("expiresInDays", "1")], s_agentFields);
            return Http("admin-body", mutation, "POST", "/admin/v1/agents", auth, body, "application/json");
        }

        var (method, target) = random.Next(11) switch
        {
            0 => ("GET", "/admin/v1/agents"),
            1 => ("GET", "/admin/v1/agents/" + id),
            2 => ("POST", $"/admin/v1/agents/{id}/rotate"),
            3 => ("POST", $"/admin/v1/agents/{id}/revoke"),
            4 => (Pick(random, ["POST", "DELETE"]), $"/admin/v1/agents/{id}/hold"),
            5 => ("GET", "/admin/v1/approvals"),
            6 => ("POST", $"/admin/v1/approvals/{id}/{Pick(random, ["approve", "deny"])}"),
            7 => ("GET", "/admin/v1/audit/verify" + (random.Next(2) == 0 ? "" : "?anchor=" + QueryJunk(random))),
            _ => ("GET", "/admin/v1/audit?" + AuditQuery(random)),
        };
        return Http("admin", $"{method} {target[..Math.Min(target.Length, 80)]}", method, target, auth, null, null);
    }

    private static string AuditQuery(Random random)
    {
        string[] names = ["agent", "run", "kind", "status", "from", "to", "after", "limit", "bogus"];
        var parts = Enumerable.Range(0, random.Next(1, 4)).Select(_ => Pick(random, names) + "=" + QueryJunk(random));
        // A small limit keeps each page cheap: the fuzzer checks the answers, not the audit log's size.
        return string.Join('&', parts.Append("limit=" + Pick(random, ["5", "0", "-1", "1001", "1e3", "abc", "5"])));
    }

    private FuzzRequest ValidRun(Random random)
    {
        if (!TakeRealRun())
        {
            return Http("catalog", "GET /v1/languages", "GET", "/v1/languages", AgentAuth(), null, null);
        }

        var isAsync = random.Next(2) == 0;
        var body = $"{{\"language\":\"bash\",\"code\":\"echo {random.Next()}\",\"purpose\":\"fuzz valid run\",\"async\":{(isAsync ? "true" : "false")},\"limits\":{{\"wallTimeMs\":5000}}}}";
        var headers = AgentAuth();
        if (random.Next(3) == 0)
        {
            headers.Add(("Idempotency-Key", "fuzz-" + random.Next(20)));
        }

        return Http("valid-run", isAsync ? "async bash run" : "sync bash run", "POST", "/v1/runs", headers, Encoding.UTF8.GetBytes(body), "application/json") with { IsRunPost = true };
    }

    /// <summary>The template with one field mutated, or the whole body broken in one of the ways parsers differ on.</summary>
    private static (byte[] Body, string Mutation) MutateBody(Random random, List<(string Name, string Json)> fields, IReadOnlyList<string> names)
    {
        string Render(IEnumerable<(string Name, string Json)> items) => "{" + string.Join(',', items.Select(f => $"\"{f.Name}\":{f.Json}")) + "}";

        switch (random.Next(20))
        {
            case 0:
                var twice = Pick(random, fields);
                return (Encoding.UTF8.GetBytes(Render(fields.Append((twice.Name, HostileValue(random))))), $"duplicate key {twice.Name}");
            case 1:
                var whole = Pick(random, ["", "null", "[]", "[{}]", "1", "\"x\"", "true", "{", "}", "{\"a\":}", "{,}", "{'language':'bash'}", "{\"language\":\"bash\",}", "{} {}", "{}x", "/* c */{}", "\uFEFF{}"]);
                return (Encoding.UTF8.GetBytes(whole), $"whole body {whole}");
            case 2:
                var rendered = Encoding.UTF8.GetBytes(Render(fields));
                var cut = random.Next(rendered.Length);
                return (rendered[..cut], $"truncated JSON at {cut}");
            case 3:
                // Invalid UTF-8 inside a string value.
                var broken = Encoding.UTF8.GetBytes(Render(fields)).ToList();
                var quotes = broken.Select((b, i) => (b, i)).Where(p => p.b == (byte)'"').Select(p => p.i).ToList();
                var at = Pick(random, quotes) + 1;
                broken.InsertRange(at, Pick(random, new byte[][] { [0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF] }));
                return ([.. broken], "invalid UTF-8 in a string");
            case 4:
                var nested = string.Concat(Enumerable.Repeat("{\"a\":", 600)) + "1" + new string('}', 600);
                return (Encoding.UTF8.GetBytes(Render(fields.Append(("limits", nested)))), "deep nesting");
            default:
                var name = Pick(random, names);
                var value = HostileValue(random);
                return (Encoding.UTF8.GetBytes(Render(Set(fields, name, value))), $"{name} = {Shorten(value)}");
        }
    }

    /// <summary>Sets a field, a field of an object field (<c>limits.x</c>) or of the first array entry (<c>files[0].x</c>).</summary>
    private static List<(string Name, string Json)> Set(List<(string Name, string Json)> fields, string path, string value)
    {
        var result = fields.Where(f => f.Name != Root(path)).ToList();
        var dot = path.IndexOf('.', StringComparison.Ordinal);
        if (path.EndsWith("[0]", StringComparison.Ordinal))
        {
            result.Add((path[..^3], $"[{value}]"));
        }
        else if (dot < 0)
        {
            result.Add((path, value));
        }
        else if (path.StartsWith("files[0].", StringComparison.Ordinal))
        {
            var other = path.EndsWith("path", StringComparison.Ordinal) ? "\"content\":\"x\"" : "\"path\":\"a.txt\"";
            result.Add(("files", $"[{{{other},\"{path[(dot + 1)..]}\":{value}}}]"));
        }
        else
        {
            result.Add((path[..dot], $"{{\"{path[(dot + 1)..]}\":{value}}}"));
        }

        return result;

        static string Root(string p) => p.Split('.', '[')[0];
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + $"…({value.Length} chars)";
}
