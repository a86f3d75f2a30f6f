using Microsoft.Extensions.Logging;

namespace Sandbox.Server.Logging;

/// <summary>
/// A logger factory whose loggers write to whichever factory it forwards to now. The guard is opened (and a
/// crash reconciled) before the web host exists, so its loggers are made from a start-up factory; once the
/// host is built they must follow the host's factory, or every line they write after start-up (failed keys,
/// caps hit, alerts) would go to a factory that has been disposed.
/// </summary>
internal sealed class ForwardingLoggerFactory(ILoggerFactory initial) : ILoggerFactory
{
    private volatile ILoggerFactory _target = initial;

    /// <summary>From now on, every logger made by this factory (before or after) writes through <paramref name="target"/>.</summary>
    public void ForwardTo(ILoggerFactory target) => _target = target;

    public ILogger CreateLogger(string categoryName) => new ForwardingLogger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("add providers to the factory this one forwards to");

    public void Dispose()
    {
        // Owns nothing: the factories it forwards to belong to their creators.
    }

    private sealed class ForwardingLogger(ForwardingLoggerFactory owner, string category) : ILogger
    {
        private ILoggerFactory? _madeFrom;
        private ILogger? _current;

        private ILogger Current
        {
            get
            {
                var target = owner._target;
                var made = Volatile.Read(ref _current);
                if (made is not null && ReferenceEquals(Volatile.Read(ref _madeFrom), target))
                {
                    return made;
                }

                // Racing threads may both make one; either is right, both write to the same target.
                made = target.CreateLogger(category);
                Volatile.Write(ref _current, made);
                Volatile.Write(ref _madeFrom, target);
                return made;
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => Current.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => Current.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Current.Log(logLevel, eventId, state, exception, formatter);
    }
}
