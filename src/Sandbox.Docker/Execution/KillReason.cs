namespace Sandbox.Docker.Execution;

/// <summary>Why the host killed a step. The first reason recorded wins; later ones are ignored.</summary>
internal enum KillReason
{
    None = 0,
    WallTime,
    CpuTime,
    Output,
    Cancelled,
}
