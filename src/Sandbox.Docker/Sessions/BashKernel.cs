namespace Sandbox.Docker.Sessions;

/// <summary>
/// The bash session kernel (<c>Kernels/bash-kernel.sh</c>): one shell kept across cells, so variables, functions, the
/// working directory, options and exported variables persist. Each cell is sourced at the top level with its own stdin,
/// its exit code is the cell's <c>$?</c>, and a cell that runs <c>exit</c> (or trips <c>set -e</c>) ends the shell: the
/// session restarts as after a breach. It reads frames without a JSON parser (<see cref="CellFrame.EncodeForShell"/>).
/// </summary>
internal static class BashKernel
{
    public static ReadOnlyMemory<byte> Source { get; } = KernelResource.Read("bash-kernel.sh");
}
