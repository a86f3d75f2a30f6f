using System.Text;

namespace Sandbox.Server.IntegrationTests.Fuzz;

/// <summary>Headers, paths, queries and methods: everything around the body.</summary>
internal sealed partial class FuzzGenerator
{
    private static readonly string[] s_routes =
    [
        "/v1/runs", "/v1/runs/{run}", "/v1/runs/{run}/events", "/v1/tokens", "/v1/me", "/v1/languages", "/v1/profiles", "/v1/profiles/bash",
        "/v1/profiles/{junk}", "/v1/tools", "/healthz", "/readyz", "/metrics", "/openapi/v1.json", "/admin/v1/agents", "/admin/v1/audit?limit=3",
        "/admin/v1/approvals",
    ];

    private static readonly string[] s_pathJunk =
    [
        "%00", "%2e%2e", "%2e%2e%2f%2e%2e", "..", ".", "%2F", "%252e", "%C0%AE", "%E2%80%AE", "%F0%9F%98%80", "%FF", "%", "%zz", "a;b",
        "run_%0d%0aX", "~", "%20", "+", "'", "%22", "%3Cscript%3E", "0", "-1", "99999999999999999999", "run_", "%u0041",
    ];

    private List<(string Name, string Value)> AgentAuth() => [("Authorization", "Bearer " + _agentKey)];

    private static string PathJunk(Random random) => random.Next(4) switch
    {
        0 => new string('a', Pick(random, [255, 2048, 9000])),
        1 => string.Concat(Enumerable.Range(0, random.Next(2, 5)).Select(_ => Pick(random, s_pathJunk))),
        _ => Pick(random, s_pathJunk),
    };

    private static string QueryJunk(Random random) => random.Next(3) switch
    {
        0 => Uri.EscapeDataString(HostileString(random)),
        1 => Pick(random, ["", "-1", "0", "1", "9223372036854775807", "9223372036854775808", "1.5", "1e3", "2026-13-45", "yesterday", "%00", "%", "result"]),
        _ => PathJunk(random),
    };

    private string Route(Random random) => Pick(random, s_routes).Replace("{run}", _knownRun(random) ?? PathJunk(random), StringComparison.Ordinal).Replace("{junk}", PathJunk(random), StringComparison.Ordinal);

    private FuzzRequest Headers(Random random)
    {
        var route = Route(random);
        var headers = new List<(string Name, string Value)>();
        string mutation;
        switch (random.Next(7))
        {
            case 0:
                var auth = Pick(random, ["", "Bearer", "Bearer ", "bearer " + _agentKey, "Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes("a:b")), "Bearer " + _agentKey + " extra",
                    "Bearer  " + _agentKey, "Bearer " + new string('k', 8000), "Bearer sbx_" + new string('0', 40), "Token " + _agentKey, "Bearer " + _adminKey, "Bearer %00"]);
                headers.Add(("Authorization", auth));
                mutation = "Authorization: " + Shorten(auth);
                break;
            case 1:
                headers.AddRange(AgentAuth());
                headers.Add(("Authorization", "Bearer other"));
                mutation = "Authorization twice";
                break;
            case 2:
                headers.AddRange(AgentAuth());
                var lastEventId = Pick(random, ["", "-1", "-5", "0", "1", "2147483647", "2147483648", "-2147483648", "9223372036854775807", "9223372036854775808", "1.5", "abc", " 1", "0x10", "1e3", "00000000001"]);
                headers.Add(("Last-Event-ID", lastEventId));
                route = "/v1/runs/" + (_knownRun(random) ?? "run_missing") + "/events";
                mutation = "Last-Event-ID: " + lastEventId;
                break;
            case 3:
                headers.AddRange(AgentAuth());
                var key = Pick(random, ["", " ", new string('k', 200), new string('k', 201), new string('k', 5000), "a b", "ключ", "%00", "\t"]);
                headers.Add(("Idempotency-Key", key));
                return Http("headers", "Idempotency-Key of " + key.Length, "POST", "/v1/runs", headers, Encoding.UTF8.GetBytes("{\"language\":\"bash\",\"code\":\"echo i\",\"dryRun\":true}"), "application/json") with { IsRunPost = true };
            case 4:
                headers.AddRange(AgentAuth());
                var contentType = Pick(random, ["text/plain", "application/json; charset=utf-16", "application/x-www-form-urlencoded", "application/json, text/plain", "json", "", "application/problem+json", "multipart/form-data; boundary=x", "application/json; charset=\"", "*/*"]);
                return Http("headers", "Content-Type: " + contentType, "POST", Pick(random, ["/v1/runs", "/v1/tokens"]), headers, Encoding.UTF8.GetBytes("{\"language\":\"bash\",\"code\":\"echo c\",\"dryRun\":true,\"profiles\":[\"bash\"]}"), contentType) with { IsRunPost = true };
            case 5:
                headers.AddRange(AgentAuth());
                var (name, value) = Pick(random, new (string, string)[]
                {
                    ("Accept", "text/event-stream"), ("Accept", "application/xml"), ("Accept-Encoding", "gzip, br, zstd"), ("Accept-Charset", "utf-7"),
                    ("X-Forwarded-For", "127.0.0.1, ::1"), ("X-Forwarded-Proto", "https"), ("X-HTTP-Method-Override", "DELETE"), ("Range", "bytes=0-1"),
                    ("If-None-Match", "*"), ("Origin", "http://evil.example"), ("Cookie", new string('c', 4000)), ("Content-Encoding", "gzip"), ("Transfer-Encoding", "identity"),
                    ("TE", "trailers"), ("Upgrade", "websocket"), ("Connection", "Upgrade, close"), ("Expect", "100-continue"), ("Host", "evil.example"),
                });
                headers.Add((name, value));
                mutation = $"{name}: {Shorten(value)}";
                break;
            default:
                headers.AddRange(AgentAuth());
                var value2 = HostileString(random);
                var header = Pick(random, ["X-Fuzz", "User-Agent", "Authorization", "Last-Event-ID", "Idempotency-Key", "Accept"]);
                headers.Add((header, value2));
                mutation = $"{header}: hostile {Shorten(value2)}";
                break;
        }

        return Http("headers", mutation, "GET", route, headers, null, null);
    }

    private FuzzRequest Paths(Random random)
    {
        var junk = PathJunk(random);
        var (method, target) = random.Next(9) switch
        {
            0 => ("GET", "/v1/runs/" + junk),
            1 => ("DELETE", "/v1/runs/" + junk),
            2 => ("GET", "/v1/runs/" + junk + "/events"),
            3 => ("GET", "/v1/profiles/" + junk),
            4 => ("GET", "/" + junk),
            5 => ("GET", "/v1/" + junk + "/me"),
            6 => ("GET", Route(random) + (Route(random).Contains('?', StringComparison.Ordinal) ? "&" : "?") + QueryJunk(random) + "=" + QueryJunk(random)),
            7 => ("GET", "/V1/LANGUAGES"),
            _ => (Pick(random, ["GET", "DELETE"]), "/v1/runs/" + (_knownRun(random) ?? junk) + Pick(random, ["", "/", "//", "/events/", "/../me", "?x=%00"])),
        };
        return Http("paths", $"{method} {Shorten(target)}", method, target, AgentAuth(), null, null);
    }

    private FuzzRequest Methods(Random random)
    {
        var method = Pick(random, ["PUT", "PATCH", "DELETE", "POST", "OPTIONS", "TRACE", "FOO", "GET", "CONNECT"]);
        var route = Route(random);
        var body = method is "GET" or "OPTIONS" or "TRACE" ? null : Encoding.UTF8.GetBytes("{}");
        var headers = route.StartsWith("/admin", StringComparison.Ordinal) ? [("Authorization", "Bearer " + _adminKey)] : AgentAuth();
        var request = Http("methods", $"{method} {Shorten(route)}", method, route, headers, body, body is null ? null : "application/json");
        return request with
        {
            IsRunPost = method == "POST" && route == "/v1/runs",
            // CONNECT wants an authority, not a path: Kestrel refuses the request line itself.
            ReachesApp = request.ReachesApp && method != "CONNECT",
        };
    }

    /// <summary>
    /// A well-framed HTTP/1.1 request. Header values go out as UTF-8 bytes, so a hostile value is sent as is; whether
    /// it reaches our code follows from what Kestrel accepts in a request line and headers (visible ASCII, space and tab).
    /// </summary>
    private static FuzzRequest Http(string family, string mutation, string method, string target, IEnumerable<(string Name, string Value)> headers, byte[]? body, string? contentType)
    {
        var head = new StringBuilder($"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        var list = headers.ToList();
        foreach (var (name, value) in list)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        if (contentType is not null)
        {
            head.Append("Content-Type: ").Append(contentType).Append("\r\n");
        }

        if (body is not null)
        {
            head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        }

        head.Append("\r\n");
        var bytes = Encoding.UTF8.GetBytes(head.ToString());
        // Kestrel refuses a request line over 8 KiB (414) and an encoded NUL in the path (400) itself.
        var path = target.Split('?')[0];
        var reachesApp = target.All(c => c is > ' ' and < '\u007F') && target.Length < 8000 && !path.Contains("%00", StringComparison.Ordinal) && list.All(h => h.Value.All(c => c is '\t' or (>= ' ' and < '\u007F')))
            && !list.Any(h => h.Name is "Host" or "Transfer-Encoding" or "Content-Encoding" or "Upgrade" or "Connection") && Encoding.UTF8.GetByteCount(head.ToString()) < 32 * 1024;
        return new FuzzRequest { Family = family, Mutation = mutation, Head = [.. bytes, .. body ?? []], ReachesApp = reachesApp };
    }
}
