namespace Sandbox.Wasm.Tests.Differential;

/// <summary>What one run of a WASI guest produced; the differential tests compare these field by field.</summary>
internal sealed record GuestRun(string Stdout, string Stderr, int ExitCode, TimeSpan Elapsed);
