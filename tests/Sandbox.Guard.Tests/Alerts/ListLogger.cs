using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Sandbox.Guard.Tests.Alerts;

/// <summary>Keeps every log entry, for assertions on what a component logged.</summary>
internal sealed class ListLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<(LogLevel Level, int EventId, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, int EventId, string Message)> Entries => [.. _entries];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((logLevel, eventId.Id, formatter(state, exception)));

    /// <summary>Waits until an entry with this event id is logged.</summary>
    public async Task<string> WaitForAsync(int eventId, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        while (true)
        {
            foreach (var entry in _entries)
            {
                if (entry.EventId == eventId)
                {
                    return entry.Message;
                }
            }

            try
            {
                await Task.Delay(20, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no log entry with event id {eventId} within {within}; logged: {string.Join(" | ", _entries.Select(e => e.Message))}");
            }
        }
    }
}
