using System.Text;

namespace Sandbox.Server.IntegrationTests.Fuzz;

/// <summary>
/// One request of the fuzzer, as the exact bytes that go on the socket: the head (and the body, when it is sent at
/// once), then any parts sent after a pause (a slow body), and whether the socket is half-closed after them (a body
/// cut short). <see cref="ReachesApp"/> is false when the request line or headers are malformed on purpose: Kestrel
/// refuses those before any handler runs (its answer is rewritten as a problem), and may close without one.
/// </summary>
internal sealed record FuzzRequest
{
    public required string Family { get; init; }

    /// <summary>What was done to the request, in a few words (the attack).</summary>
    public required string Mutation { get; init; }

    public required byte[] Head { get; init; }

    public IReadOnlyList<byte[]> Parts { get; init; } = [];

    public TimeSpan Pause { get; init; }

    public bool EndSend { get; init; }

    public bool ReachesApp { get; init; } = true;

    /// <summary>A <c>POST /v1/runs</c>: an answer with a run id is an accepted run, which must have one audited result.</summary>
    public bool IsRunPost { get; init; }

    /// <summary>The request as text with control and non-ASCII bytes escaped, cut to <paramref name="max"/> characters.</summary>
    public string Describe(int max = 2048)
    {
        var text = new StringBuilder();
        foreach (var b in Head.Concat(Parts.SelectMany(p => p)))
        {
            if (text.Length > max)
            {
                text.Append("…(").Append(Head.Length + Parts.Sum(p => p.Length)).Append(" bytes)");
                break;
            }

            text.Append(b switch
            {
                (byte)'\r' => "\\r",
                (byte)'\n' => "\\n\n",
                >= 0x20 and < 0x7F => ((char)b).ToString(),
                _ => $"\\x{b:X2}",
            });
        }

        return text.ToString();
    }
}
