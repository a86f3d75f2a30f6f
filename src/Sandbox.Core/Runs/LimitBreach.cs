namespace Sandbox.Core.Runs;

/// <summary>Which limit killed a run, its value and what was observed when it was enforced.</summary>
/// <param name="Limit">The limit's wire name, such as <c>memoryBytes</c>.</param>
/// <param name="Value">The enforced value, in the limit's unit.</param>
/// <param name="Observed">What was measured when the run was killed, in the same unit.</param>
public sealed record LimitBreach(string Limit, long Value, long Observed);
