namespace Sandbox.Wasm.Execution;

/// <summary>
/// A validated function body in the internal form. Frame layout on the value stack: parameters, then
/// declared locals (zeroed on entry), then operands; <see cref="MaxHeight"/> bounds the whole frame so
/// the stack-space check happens once per call instead of once per push.
/// </summary>
internal sealed class CompiledFunction
{
    public required Instruction[] Code { get; init; }

    public required int ParameterCount { get; init; }

    /// <summary>Parameters plus declared locals.</summary>
    public required int LocalCount { get; init; }

    public required int ResultCount { get; init; }

    /// <summary>Largest number of slots the frame uses (locals plus deepest operand stack).</summary>
    public required int MaxHeight { get; init; }
}
