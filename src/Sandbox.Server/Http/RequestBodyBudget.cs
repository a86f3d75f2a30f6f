using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Sandbox.Server.Hosting;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Http;

/// <summary>
/// The bytes of the request bodies being read and handled now, per agent and in all. A body is read whole into memory and
/// takes 6-8 times its size while it is parsed, validated and hashed, so before this one agent holding its connections
/// open with 7 MiB bodies took the service with it: 200 at once, 2.6 GB at the peak and 2.1 GB still held after; at the
/// 1000 connections Kestrel allows, past 10 GB. Each agent call with a body reserves its declared length before a byte is
/// read, or, for a chunked body (which declares none: what most HTTP clients send for JSON), 64 KiB grown as the body is
/// read (<see cref="BodyReader"/>); the bytes go back when its handler ends. Past the agent's share the answer is 429,
/// past the total 503, both with <c>Retry-After</c>, and the connection is closed rather than the rest of the body read.
/// </summary>
internal sealed class RequestBodyBudget
{
    /// <summary>The cap on the wire (<c>"cap"</c> of the 429), beside the guard's.</summary>
    public const string Cap = "request_bytes_in_flight";

    private readonly Dictionary<string, long> _byAgent = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly long _perAgent;
    private readonly long _total;
    private readonly long _bodyCap;
    private long _reserved;

    public RequestBodyBudget(ServerOptions options)
    {
        _perAgent = options.MaxAgentRequestBytesInFlight;
        _total = options.MaxRequestBytesInFlight;
        _bodyCap = options.MaxRequestBodyBytes;
    }

    /// <summary>Bytes reserved now, in all (tests, metrics).</summary>
    public long Reserved
    {
        get
        {
            lock (_gate)
            {
                return _reserved;
            }
        }
    }

    /// <summary>What a chunked body reserves to begin with; <see cref="Lease.TryGrow"/> adds to it as it is read.</summary>
    public const long ChunkedStartBytes = 64 * 1024;

    private static readonly object LeaseKey = new();

    /// <summary>
    /// What <paramref name="request"/>'s body reserves before it is read: its declared length (capped: past the cap it is
    /// refused unread), <see cref="ChunkedStartBytes"/> when it is chunked, 0 when it has none.
    /// </summary>
    public long BytesOf(HttpRequest request) => request.ContentLength is { } length
        ? Math.Min(Math.Max(length, 0), _bodyCap)
        : request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true ? ChunkedStartBytes : 0;

    /// <summary>The lease the agent filter took for <paramref name="context"/>'s body, if any (admin calls have none).</summary>
    public static Lease? LeaseOf(HttpContext context) => context.Items[LeaseKey] as Lease;

    /// <summary>
    /// Reserves <paramref name="bytes"/> for <paramref name="agentId"/>'s call in <paramref name="context"/>: the lease to
    /// dispose when it has answered, or the problem to answer instead.
    /// </summary>
    public (Lease? Lease, ApiProblem? Problem) TryReserve(HttpContext context, string agentId, string agentName, long bytes)
    {
        var (lease, problem) = TryReserve(agentId, agentName, bytes);
        if (lease is not null)
        {
            context.Items[LeaseKey] = lease;
        }

        return (lease, problem);
    }

    /// <summary>Reserves <paramref name="bytes"/> for <paramref name="agentId"/>: the lease to dispose when done, or the problem to answer.</summary>
    public (Lease? Lease, ApiProblem? Problem) TryReserve(string agentId, string agentName, long bytes)
    {
        var problem = TryAdd(agentId, agentName, held: 0, bytes);
        return problem is null ? (new Lease(this, agentId, agentName, bytes), null) : (null, problem);
    }

    private ApiProblem? TryAdd(string agentId, string agentName, long held, long bytes)
    {
        lock (_gate)
        {
            var agentHeld = _byAgent.GetValueOrDefault(agentId);
            if (agentHeld + bytes > _perAgent)
            {
                return ApiProblem.CapExceeded(Cap,
                    $"agent '{agentName}' already has {Mib(agentHeld - held)} MiB of other request bodies being read or handled, and this one would take {Mib(held + bytes)}, past its share of {Mib(_perAgent)} MiB (Sandbox:MaxAgentRequestBytesInFlight); retry when one of its calls has answered", retryAfterSeconds: 1);
            }

            if (_reserved + bytes > _total)
            {
                return new ApiProblem
                {
                    Status = 503,
                    Code = "server_busy",
                    Title = "Too many request bodies in flight",
                    Detail = $"the service is reading or handling {Mib(_reserved)} MiB of request bodies, its limit of {Mib(_total)} MiB (Sandbox:MaxRequestBytesInFlight); retry shortly",
                    RetryAfterSeconds = 1,
                };
            }

            _byAgent[agentId] = agentHeld + bytes;
            _reserved += bytes;
            return null;
        }
    }

    private void Release(string agentId, long bytes)
    {
        lock (_gate)
        {
            _reserved -= bytes;
            var left = _byAgent[agentId] - bytes;
            if (left == 0)
            {
                _byAgent.Remove(agentId);
            }
            else
            {
                _byAgent[agentId] = left;
            }
        }
    }

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>One call's reservation: grown while its body is read, given back once when disposed.</summary>
    internal sealed class Lease(RequestBodyBudget budget, string agentId, string agentName, long bytes) : IDisposable
    {
        private readonly Lock _gate = new();
        private long _bytes = bytes;
        private bool _released;

        /// <summary>Bytes reserved now.</summary>
        public long Bytes
        {
            get
            {
                lock (_gate)
                {
                    return _bytes;
                }
            }
        }

        /// <summary>Grows the reservation to at least <paramref name="needed"/> bytes (doubling, so a body grows it a few times), or the problem to answer.</summary>
        public ApiProblem? TryGrow(long needed)
        {
            lock (_gate)
            {
                if (needed <= _bytes || _released)
                {
                    return null;
                }

                var to = Math.Min(Math.Max(needed, _bytes * 2), Math.Max(needed, budget._bodyCap));
                if (budget.TryAdd(agentId, agentName, _bytes, to - _bytes) is { } problem)
                {
                    return problem;
                }

                _bytes = to;
                return null;
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                if (_released)
                {
                    return;
                }

                _released = true;
                budget.Release(agentId, _bytes);
            }
        }
    }
}
