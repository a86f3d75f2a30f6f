using System.Text;

namespace Sandbox.Server.IntegrationTests.Fuzz;

/// <summary>Malformed HTTP/1.1 framing, as only a raw socket sends it: chunk sizes, lengths, request lines, slow and cut bodies.</summary>
internal sealed partial class FuzzGenerator
{
    private int _slowLeft = 3;

    private FuzzRequest Framing(Random random)
    {
        var auth = $"Authorization: Bearer {_agentKey}\r\n";
        var post = $"POST /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}Content-Type: application/json\r\n";
        const string Body = "{\"language\":\"bash\",\"code\":\"echo f\",\"dryRun\":true}";
        FuzzRequest Raw(string mutation, string head, bool reachesApp, IReadOnlyList<string>? parts = null, bool endSend = false, double pauseSeconds = 0) => new()
        {
            Family = "framing",
            Mutation = mutation,
            Head = Encoding.UTF8.GetBytes(head),
            Parts = [.. (parts ?? []).Select(Encoding.UTF8.GetBytes)],
            Pause = TimeSpan.FromSeconds(pauseSeconds),
            EndSend = endSend,
            ReachesApp = reachesApp,
            IsRunPost = reachesApp,
        };

        switch (random.Next(22))
        {
            case 0:
                var size = Pick(random, ["zz", "FFFFFFFFFFFFFFFFFFFF", "-1", " 5", "5 ", "0x5", "5;ext=\u0001", "", "1\r\n\r\n"]);
                return Raw($"chunk size {Shorten(size)}", post + "Transfer-Encoding: chunked\r\n\r\n" + size + "\r\n{}\r\n0\r\n\r\n", reachesApp: true);
            case 1:
                return Raw("chunked, cut before the last chunk", post + $"Transfer-Encoding: chunked\r\n\r\n{Body.Length:X}\r\n{Body}\r\n", reachesApp: true, endSend: true);
            case 2:
                return Raw("chunk longer than its size", post + "Transfer-Encoding: chunked\r\n\r\n2\r\n{\"language\"}\r\n0\r\n\r\n", reachesApp: true);
            case 3:
                return Raw("Content-Length larger than the body, then end of stream", post + $"Content-Length: {Body.Length + random.Next(1, 1000)}\r\n\r\n{Body}", reachesApp: true, endSend: true);
            case 4:
                return Raw("Content-Length smaller than the body", post + $"Content-Length: {random.Next(0, Body.Length)}\r\n\r\n{Body}", reachesApp: true);
            case 5:
                var length = Pick(random, ["-1", "abc", "1e3", "99999999999999999999", "", "5, 6", "+5", " 5 "]);
                return Raw($"Content-Length: {length}", post + $"Content-Length: {length}\r\n\r\n{Body}", reachesApp: false);
            case 6:
                return Raw("two different Content-Lengths", post + $"Content-Length: {Body.Length}\r\nContent-Length: 3\r\n\r\n{Body}", reachesApp: false);
            case 7:
                return Raw("Content-Length and chunked together", post + $"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n{Body.Length:X}\r\n{Body}\r\n0\r\n\r\n", reachesApp: false);
            case 8:
                return Raw("Transfer-Encoding other than chunked", post + "Transfer-Encoding: gzip\r\n\r\n" + Body, reachesApp: false);
            case 9:
                var line = Pick(random, ["GET  /v1/me HTTP/1.1", "GET /v1/me HTTP/9.9", "GET /v1/me", "get /v1/me HTTP/1.1", "GET * HTTP/1.1", "GET http://127.0.0.1/v1/me HTTP/1.1",
                    "GET /v1/me HTTP/1.1 extra", "\u0000GET /v1/me HTTP/1.1", "GET /v1/\u00e9 HTTP/1.1", "GET /v1/me\tx HTTP/1.1", "G\u0001T / HTTP/1.1", "GET v1/me HTTP/1.1", "PRI * HTTP/2.0"]);
                return Raw($"request line {Shorten(line)}", line + "\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + auth + "\r\n", reachesApp: false);
            case 10:
                var header = Pick(random, ["NoColon", "Bad Name: x", " Leading: space", "X-Fold: a\r\n folded", "X-Nul: a\u0000b", "X-Utf8: \u00e9\u202e", ": empty-name", "X-Bare-CR: a\rb"]);
                return Raw($"header {Shorten(header)}", $"GET /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}{header}\r\n\r\n", reachesApp: false);
            case 11:
                return Raw("header over the size limit", $"GET /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}X-Big: {new string('b', 40_000)}\r\n\r\n", reachesApp: false);
            case 12:
                var many = string.Concat(Enumerable.Range(0, 150).Select(i => $"X-H{i}: v\r\n"));
                return Raw("150 headers", $"GET /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}{many}\r\n", reachesApp: false);
            case 13:
                return Raw("no Host header", $"GET /v1/me HTTP/1.1\r\nConnection: close\r\n{auth}\r\n", reachesApp: false);
            case 14:
                return Raw("HTTP/1.0 without Host", $"GET /v1/languages HTTP/1.0\r\n{auth}\r\n", reachesApp: true);
            case 15:
                return Raw("request target of 9000 characters", $"GET /v1/runs/{new string('r', 9000)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}\r\n", reachesApp: false);
            case 16:
                return Raw("Expect: 100-continue", post + $"Expect: 100-continue\r\nContent-Length: {Body.Length}\r\n\r\n", reachesApp: true, parts: [Body], pauseSeconds: 0.05);
            case 17:
                return Raw("pipelined second request", post + $"Content-Length: {Body.Length}\r\n\r\n{Body}GET /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", reachesApp: true);
            case 18:
                return Raw("body on GET", $"GET /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}Content-Length: 5\r\n\r\nhello", reachesApp: true);
            case 19:
                return Raw("chunked with trailers", post + $"Transfer-Encoding: chunked\r\n\r\n{Body.Length:X}\r\n{Body}\r\n0\r\nX-Trailer: {new string('t', 100)}\r\n\r\n", reachesApp: true);
            case 20 when Interlocked.Decrement(ref _slowLeft) >= 0:
                // A body at one byte a second: Kestrel's minimum body rate must end it (408), not our wait.
                return Raw("body at 1 byte/s", post + "Content-Length: 100\r\n\r\n", reachesApp: true, parts: [.. Enumerable.Repeat("x", 12)], pauseSeconds: 1);
            default:
                return Raw("empty chunked body", post + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", reachesApp: true);
        }
    }
}
