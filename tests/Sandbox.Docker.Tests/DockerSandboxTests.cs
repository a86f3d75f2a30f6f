using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Sandbox.Docker.Client;
using Sandbox.Docker.Tests.Support;

namespace Sandbox.Docker.Tests;

/// <summary>The composition of the Docker pieces: what the service gets from <see cref="DockerSandbox.Create"/>.</summary>
public sealed class DockerSandboxTests
{
    [Fact]
    public async Task Create_RetriesAndBreakerTransitions_AreLogged()
    {
        // Before, the composed client built its pipelines without a logger: every retry and circuit change went nowhere.
        var fake = new FakeDockerClient();
        fake.FailWith(op => new DockerUnavailableException("connection refused", op.ToString()));
        var lines = new ConcurrentQueue<string>();
        using var loggers = new ListLoggerFactory(lines);
        var sandbox = DockerSandbox.Create(fake, TimeProvider.System, loggers);

        for (var i = 0; i < 3; i++)
        {
            await Should.ThrowAsync<DockerUnavailableException>(() => sandbox.Docker.PingAsync(TestContext.Current.CancellationToken));
        }

        lines.ShouldContain(l => l.Contains("Retrying", StringComparison.Ordinal), string.Join('\n', lines));
        lines.ShouldContain(l => l.Contains("circuit opened", StringComparison.Ordinal), string.Join('\n', lines));
    }

    private sealed class ListLoggerFactory(ConcurrentQueue<string> lines) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new ListLogger(lines);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class ListLogger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue(formatter(state, exception));
        }
    }
}
