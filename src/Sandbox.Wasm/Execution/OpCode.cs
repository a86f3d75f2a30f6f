namespace Sandbox.Wasm.Execution;

/// <summary>
/// Opcodes of the internal form. Numeric, memory, variable and constant operations keep their WebAssembly
/// byte value (so the dispatch switch is a dense jump table over 0x00..0xFF); control flow is lowered to
/// explicit jumps; 0xFC-prefixed operations are mapped to 0xE0 + sub-opcode. Fused families follow
/// densely from 0x100 (each base is its first slot minus the lowest WebAssembly opcode it covers), so the
/// whole set stays one jump table of about 700 entries instead of a binary search over sparse ranges.
/// </summary>
internal static class OpCode
{
    public const int Unreachable = 0x00;

    /// <summary>Charge A units of fuel for the basic block that starts here.</summary>
    public const int Fuel = 0x01;

    /// <summary>Loop header (every back-edge lands here): check the interrupt flag, then charge A units of fuel.</summary>
    public const int LoopHeader = 0x02;

    /// <summary>The body of a lazily translated function (<see cref="WasmEngineOptions.LazyTranslation"/>) before its first call: translate it, then enter it.</summary>
    public const int Translate = 0x03;

    /// <summary>Pop an i32; jump to A when it is zero (lowered <c>if</c>).</summary>
    public const int BrUnless = 0x04;

    public const int Br = 0x0C;
    public const int BrIf = 0x0D;

    /// <summary>Pop an index; A is the number of targets, followed by A + 1 entries (A = target, B = arity/height).</summary>
    public const int BrTable = 0x0E;

    public const int Return = 0x0F;
    public const int Call = 0x10;
    public const int CallIndirect = 0x11;
    public const int Drop = 0x1A;
    public const int Select = 0x1B;
    public const int LocalGet = 0x20;
    public const int LocalSet = 0x21;
    public const int LocalTee = 0x22;
    public const int GlobalGet = 0x23;
    public const int GlobalSet = 0x24;
    public const int TableGet = 0x25;
    public const int TableSet = 0x26;
    public const int MemorySize = 0x3F;
    public const int MemoryGrow = 0x40;

    /// <summary>Push B (all four constant kinds, and ref.null as 0).</summary>
    public const int Const = 0x41;

    /// <summary>A of a <see cref="Const"/> from i32.const or i64.const (0: a float or reference constant). Only the IL
    /// tier reads it: an integer constant may become an IL literal (see ConstantPool for why float ones may not).</summary>
    public const int ConstInteger = 1;

    public const int I64Eqz = 0x50;
    public const int RefFunc = 0xD2;

    /// <summary>0xFC sub-opcodes 0..17 live at 0xE0..0xF1.</summary>
    public const int PrefixFcBase = 0xE0;

    public const int MemoryInit = PrefixFcBase + 8;
    public const int DataDrop = PrefixFcBase + 9;
    public const int MemoryCopy = PrefixFcBase + 10;
    public const int MemoryFill = PrefixFcBase + 11;
    public const int TableInit = PrefixFcBase + 12;
    public const int ElemDrop = PrefixFcBase + 13;
    public const int TableCopy = PrefixFcBase + 14;
    public const int TableGrow = PrefixFcBase + 15;
    public const int TableSize = PrefixFcBase + 16;
    public const int TableFill = PrefixFcBase + 17;

    /// <summary>Branch that moves the top (B &gt;&gt; 32) values down to frame height (int)B.</summary>
    public const int BrMove = 0xF4;

    public const int BrIfMove = 0xF5;

    /// <summary>Superinstruction: push local A and local (int)B.</summary>
    public const int LocalGet2 = 0xF6;

    /// <summary>Superinstruction: local A = local A + (int)B (i32), the typical loop counter step.</summary>
    public const int LocalI32AddConst = 0xF7;

    /// <summary>Integer binary op with its second operand in B (fused <c>i32.const; op</c>).</summary>
    public const int FusedImmediate = 0x100 - 0x46;

    /// <summary>Integer binary op with its second operand the local A (fused <c>local.get; op</c>).</summary>
    public const int FusedLocal = 0x145 - 0x28;

    /// <summary>Integer binary op on locals A and (int)B, pushing the result (fused <c>local.get; local.get; op</c>).</summary>
    public const int FusedLocalLocal = 0x1A8 - 0x46;

    /// <summary>Integer binary op on two stack operands, result stored to local A (fused <c>op; local.set</c>).</summary>
    public const int FusedToLocal = 0x1ED - 0x46;

    /// <summary>i32 op: local A = local (int)B op (B &gt;&gt; 32) as an immediate.</summary>
    public const int FusedLocalImmediateToLocal = 0x232 - 0x46;

    /// <summary>br_if on an i32 comparison of two stack operands; A is the target.</summary>
    public const int BrIfCompare = 0x265 - 0x46;

    /// <summary>br_if on an i32 comparison of local (int)B with local (B &gt;&gt; 32).</summary>
    public const int BrIfCompareLocalLocal = 0x26F - 0x46;

    /// <summary>br_if on an i32 comparison of local (int)B with the immediate (B &gt;&gt; 32).</summary>
    public const int BrIfCompareLocalImmediate = 0x279 - 0x46;

    /// <summary>br_if on an i32 comparison of the stack operand with the immediate B.</summary>
    public const int BrIfCompareImmediate = 0x283 - 0x46;

    /// <summary>i32 op: local A = local (int)B op local (B &gt;&gt; 32).</summary>
    public const int FusedLocalLocalToLocal = 0x28D - 0x46;

    /// <summary>i32 op on two stack operands; the result goes to local A and stays on the stack (fused <c>op; local.tee</c>).</summary>
    public const int FusedTee = 0x2C0 - 0x46;

    /// <summary>i32 op of the stack operand and the immediate B; result to local A and kept on the stack.</summary>
    public const int FusedImmediateTee = 0x2F3 - 0x46;

    /// <summary>i32 op: local A = local (int)B op (B &gt;&gt; 32), and pushed.</summary>
    public const int FusedLocalImmediateTee = 0x326 - 0x46;

    /// <summary>Store of local (int)B to the address in local A, offset (ulong)B &gt;&gt; 32 (fused <c>local.get; local.get; store</c>).</summary>
    public const int FusedStoreLocalLocal = 0x359 - 0x36;

    public static string Name(int op) => op switch
    {
        Fuel => "fuel",
        LoopHeader => "loop_header",
        BrUnless => "br_unless",
        BrMove => "br_move",
        BrIfMove => "br_if_move",
        LocalGet2 => "local.get2",
        LocalI32AddConst => "local.i32.add_const",
        _ => $"0x{op:X2}",
    };
}
