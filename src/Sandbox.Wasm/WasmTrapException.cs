namespace Sandbox.Wasm;

/// <summary>Guest execution trapped. <see cref="Kind"/> says why; the message uses the spec's wording.</summary>
public sealed class WasmTrapException : WasmException
{
    public WasmTrapException()
    {
    }

    public WasmTrapException(string message)
        : base(message)
    {
    }

    public WasmTrapException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public WasmTrapException(WasmTrapKind kind)
        : base(Describe(kind))
    {
        Kind = kind;
    }

    public WasmTrapKind Kind { get; init; } = WasmTrapKind.HostError;

    /// <summary>The spec test suite's text for each trap kind.</summary>
    public static string Describe(WasmTrapKind kind) => kind switch
    {
        WasmTrapKind.Unreachable => "unreachable",
        WasmTrapKind.OutOfBoundsMemoryAccess => "out of bounds memory access",
        WasmTrapKind.OutOfBoundsTableAccess => "out of bounds table access",
        WasmTrapKind.IntegerOverflow => "integer overflow",
        WasmTrapKind.IntegerDivideByZero => "integer divide by zero",
        WasmTrapKind.InvalidConversionToInteger => "invalid conversion to integer",
        WasmTrapKind.IndirectCallTypeMismatch => "indirect call type mismatch",
        WasmTrapKind.UndefinedElement => "undefined element",
        WasmTrapKind.UninitializedElement => "uninitialized element",
        WasmTrapKind.CallStackExhausted => "call stack exhausted",
        WasmTrapKind.OutOfFuel => "out of fuel",
        WasmTrapKind.Interrupted => "interrupted",
        _ => "host error",
    };
}
