namespace Sandbox.Bench.Api;

/// <summary>How one request ended, from the caller's side.</summary>
internal enum SampleOutcome
{
    /// <summary>2xx, the run completed with status ok and printed what it should.</summary>
    Ok,

    /// <summary>429: the service's queue was full. Counted, never retried.</summary>
    Refused,

    /// <summary>Anything else: another status code, a run that did not end ok, a transport failure or a timeout.</summary>
    Error,
}

/// <summary>
/// One request: its outcome, the latency the client saw (send to last byte of the answer), the service's own
/// queue and run times when it reported them, the <c>Retry-After</c> of a 429, and what went wrong for an error.
/// </summary>
internal sealed record RunSample(
    SampleOutcome Outcome,
    double LatencyMs,
    long? QueueMs = null,
    long? RunMs = null,
    int? RetryAfterSeconds = null,
    string? Error = null);
