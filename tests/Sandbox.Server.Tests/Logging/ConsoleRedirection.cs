namespace Sandbox.Server.Tests.Logging;

/// <summary>Console.Out and Console.Error are process-wide, so the tests that swap them run alone.</summary>
[CollectionDefinition(nameof(ConsoleRedirection), DisableParallelization = true)]
public sealed class ConsoleRedirection;
