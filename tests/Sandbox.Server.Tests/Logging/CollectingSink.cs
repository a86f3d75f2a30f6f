using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace Sandbox.Server.Tests.Logging;

/// <summary>Keeps every event it receives, so a test can look at the properties Serilog saw.</summary>
internal sealed class CollectingSink : ILogEventSink
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public IReadOnlyList<LogEvent> Events => [.. _events];

    public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);
}
