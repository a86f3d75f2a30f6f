namespace Sandbox.Wasm;

/// <summary>Why guest execution stopped abnormally.</summary>
public enum WasmTrapKind
{
    Unreachable,
    OutOfBoundsMemoryAccess,
    OutOfBoundsTableAccess,
    IntegerOverflow,
    IntegerDivideByZero,
    InvalidConversionToInteger,
    IndirectCallTypeMismatch,
    UndefinedElement,
    UninitializedElement,
    CallStackExhausted,
    OutOfFuel,
    Interrupted,
    HostError,
}
