using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Sandbox.Guard.Store;

namespace Sandbox.Guard.Policy;

/// <summary>
/// Which of an agent's refused requests (runs and task-token mints: invalid, off its allow-list, over a cap) are audited
/// one by one: up to <see cref="GuardOptions.RefusalsAuditedPerMinute"/> per agent in a minute; past it each is only
/// counted, by code, and the minute's count becomes one <c>decision</c> record with status <c>suppressed</c>. Refusals
/// have no cap of their own: an agent over its rate is answered 429 as fast as it asks, and before this one agent's loop
/// of small refused requests grew the audit log by about 1.5 KB each at 1,900 a second (about 240 GB a day). One window per
/// agent, so one agent's flood never thins another's record. Thread-safe.
/// </summary>
public sealed partial class RefusalAudit
{
    private readonly ConcurrentDictionary<string, AuditWindow> _windows = new(StringComparer.Ordinal);
    private readonly IGuardStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _perMinute;

    internal RefusalAudit(IGuardStore store, GuardOptions options, TimeProvider time, ILogger logger)
    {
        _store = store;
        _time = time;
        _logger = logger;
        _perMinute = options.RefusalsAuditedPerMinute;
    }

    /// <summary>True when this refusal of <paramref name="agentId"/> is to be recorded on its own; false when it was only counted.</summary>
    /// <param name="agentId">The refused agent.</param>
    /// <param name="code">The refusal's code, with its cap when it has one (<c>cap_exceeded:rate_per_minute</c>).</param>
    public bool Admit(string agentId, string code) =>
        _windows.GetOrAdd(agentId, static _ => new AuditWindow()).TryAdmit(_time.GetUtcNow(), code, _perMinute);

    /// <summary>
    /// What every refusal does before it is recorded: the counts that are due are written first (<see cref="FlushAsync"/>),
    /// then this one is admitted or only counted (<see cref="Admit"/>). A flush the store refuses is logged and the refusal
    /// still answered, so a failing store never turns a 4xx into a 5xx here (its own record, if admitted, meets the store next).
    /// </summary>
    public async Task<bool> AdmitAsync(string agentId, string code, CancellationToken cancellationToken)
    {
        try
        {
            await FlushAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.FlushFailed(_logger, ex);
        }

        return Admit(agentId, code);
    }

    /// <summary>
    /// Writes the count of each agent's refusals that were not audited one by one, once their minute is over (every
    /// agent's so far with <paramref name="force"/>, when closing), each once. Called before a refusal is recorded and by
    /// the service's watcher, so a flood that stops still gets its count within a second of its minute's end.
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken, bool force = false)
    {
        var now = _time.GetUtcNow();
        foreach (var (agentId, window) in _windows)
        {
            if (window.TakeSuppressed(now, force) is { } suppressed)
            {
                await _store.AppendAsync(AuditRecords.RefusalsSuppressed(agentId, suppressed, _perMinute), cancellationToken);
                Log.RefusalsSuppressed(_logger, agentId, suppressed.Count, _perMinute);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(9, LogLevel.Warning, "Agent {AgentId} had {Count} refused requests past the {PerMinute} a minute audited one by one; their count is audited as one record")]
        public static partial void RefusalsSuppressed(ILogger logger, string agentId, int count, int perMinute);

        [LoggerMessage(10, LogLevel.Error, "The count of refused requests past those audited one by one could not be recorded; the refusal is answered all the same")]
        public static partial void FlushFailed(ILogger logger, Exception exception);
    }
}
