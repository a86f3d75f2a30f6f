namespace Sandbox.Wasm.Tests.Support;

/// <summary>
/// Hostile binaries that are too large or too malformed to write as .wat: each factory names the attack;
/// the tests that use them state the expected outcome.
/// </summary>
internal static class HostileModules
{
    private static readonly byte[] s_header = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00];

    /// <summary>One function of type [] → [] whose body nests <paramref name="depth"/> blocks (stack-overflow bait for recursive validators).</summary>
    public static byte[] DeeplyNestedBlocks(int depth)
    {
        var body = new List<byte> { 0x00 };
        for (var i = 0; i < depth; i++)
        {
            body.AddRange([0x02, 0x40]);
        }

        body.AddRange(Enumerable.Repeat((byte)0x0B, depth + 1));
        return SingleFunction(body.ToArray());
    }

    /// <summary>One function declaring 2^32 - 1 locals in one group (allocation bomb).</summary>
    public static byte[] FourBillionLocals() => SingleFunction([0x01, .. Leb(uint.MaxValue), 0x7F, 0x0B]);

    /// <summary>One function declaring <paramref name="count"/> i32 locals.</summary>
    public static byte[] ManyLocals(uint count) => SingleFunction([0x01, .. Leb(count), 0x7F, 0x0B]);

    /// <summary>A type section claiming 2^31 entries in a few bytes (allocation bomb).</summary>
    public static byte[] HugeTypeCount() => [.. s_header, .. Section(1, [.. Leb(int.MaxValue), 0x60, 0x00, 0x00])];

    /// <summary>A br_table claiming 2^32 - 1 targets (allocation bomb inside a body).</summary>
    public static byte[] HugeBrTable() => SingleFunction([0x00, 0x41, 0x00, 0x0E, .. Leb(uint.MaxValue), 0x00, 0x0B]);

    /// <summary>A function body of <paramref name="nops"/> nops (size cap).</summary>
    public static byte[] LargeBody(int nops) => SingleFunction([0x00, .. Enumerable.Repeat((byte)0x01, nops), 0x0B]);

    /// <summary>A module that imports <paramref name="count"/> functions (count cap).</summary>
    public static byte[] ManyImports(int count)
    {
        var imports = new List<byte>(Leb((uint)count));
        for (var i = 0; i < count; i++)
        {
            imports.AddRange([0x01, (byte)'m', 0x01, (byte)'f', 0x00, 0x00]);
        }

        return [.. s_header, .. Section(1, [0x01, 0x60, 0x00, 0x00]), .. Section(2, [.. imports])];
    }

    /// <summary>
    /// Type 1 takes and returns 1,000 i32s; the body repeats <c>block (type 1) end</c> <paramref name="blocks"/> times,
    /// so each 3 bytes of input cost thousands of type-stack operations (validation stall).
    /// </summary>
    public static byte[] RepeatedWideBlocks(int blocks)
    {
        var body = new List<byte> { 0x00 };
        for (var i = 0; i < 1000; i++)
        {
            body.AddRange([0x41, 0x00]);
        }

        for (var i = 0; i < blocks; i++)
        {
            body.AddRange([0x02, 0x01, 0x0B]);
        }

        body.AddRange(Enumerable.Repeat((byte)0x1A, 1000));
        body.Add(0x0B);
        return WithWideType(body.ToArray());
    }

    /// <summary>A br_table with <paramref name="targets"/> entries, all to a label of 1,000 values (quadratic-check bait).</summary>
    public static byte[] WideBrTable(int targets)
    {
        var body = new List<byte> { 0x00 };
        for (var i = 0; i < 1000; i++)
        {
            body.AddRange([0x41, 0x00]);
        }

        body.AddRange([0x02, 0x01, 0x41, 0x00, 0x0E, .. Leb((uint)targets)]);
        body.AddRange(Enumerable.Repeat((byte)0x00, targets + 1));
        body.Add(0x0B);
        body.AddRange(Enumerable.Repeat((byte)0x1A, 1000));
        body.Add(0x0B);
        return WithWideType(body.ToArray());
    }

    private static byte[] WithWideType(byte[] body)
    {
        var wide = Enumerable.Repeat((byte)0x7F, 1000).ToArray();
        return
        [
            .. s_header,
            .. Section(1, [0x02, 0x60, 0x00, 0x00, 0x60, .. Leb(1000), .. wide, .. Leb(1000), .. wide]),
            .. Section(3, [0x01, 0x00]),
            .. Section(10, [0x01, .. Leb((uint)body.Length), .. body]),
        ];
    }

    /// <summary>
    /// IL-tier bait (issue 10): one exported function "run" with <paramref name="locals"/> i64 locals, a loop of
    /// <paramref name="iterations"/> iterations (enough to send the function to the IL tier), then
    /// <paramref name="emptyLoops"/> empty loops. Every loop header is an on-stack-replacement entry that reloads
    /// every local, so the compiled method grows as locals × loops from a few hundred bytes of input.
    /// </summary>
    public static byte[] WideFrameLoops(uint locals, long iterations, int emptyLoops)
    {
        List<byte> body = [0x01, .. Leb(locals), 0x7E];

        // loop: local0 += 1; br_if (local0 < iterations)
        body.AddRange([0x03, 0x40, 0x20, 0x00, 0x42, 0x01, 0x7C, 0x22, 0x00, 0x42, .. SignedLeb(iterations), 0x53, 0x0D, 0x00, 0x0B]);
        for (var i = 0; i < emptyLoops; i++)
        {
            body.AddRange([0x03, 0x40, 0x0B]);
        }

        body.Add(0x0B);
        return WithExportedFunctions(1, body.ToArray());
    }

    /// <summary>
    /// A loop that never ends and is too long for one optimised .NET method (the IL tier splits it into regions): one
    /// i64 local, and per group <c>local0 += 1; count = local0</c>, <paramref name="groups"/> times, then back to the
    /// loop header. Exports "run" and the global "count" (how far it got).
    /// </summary>
    public static byte[] LongInfiniteLoop(int groups)
    {
        List<byte> body = [0x01, 0x01, 0x7E, 0x03, 0x40];
        for (var i = 0; i < groups; i++)
        {
            body.AddRange([0x20, 0x00, 0x42, 0x01, 0x7C, 0x22, 0x00, 0x24, 0x00]);
        }

        body.AddRange([0x0C, 0x00, 0x0B, 0x0B]);
        return
        [
            .. s_header,
            .. Section(1, [0x01, 0x60, 0x00, 0x00]),
            .. Section(3, [0x01, 0x00]),
            .. Section(6, [0x01, 0x7E, 0x01, 0x42, 0x00, 0x0B]),
            .. Section(7, [0x02, 0x03, (byte)'r', (byte)'u', (byte)'n', 0x00, 0x00, 0x05, (byte)'c', (byte)'o', (byte)'u', (byte)'n', (byte)'t', 0x03, 0x00]),
            .. Section(10, [0x01, .. Leb((uint)body.Count), .. body]),
        ];
    }

    /// <summary>Declaration bomb (issue 10): <paramref name="functions"/> empty functions declaring <paramref name="localsEach"/> i64 locals each.</summary>
    public static byte[] ManyFunctionsWithLocals(int functions, uint localsEach) =>
        WithExportedFunctions(functions, [0x01, .. Leb(localsEach), 0x7E, 0x0B]);

    /// <summary>Load-time bait: <paramref name="functions"/> functions of <paramref name="pairs"/> <c>i32.const 0; drop</c>
    /// each, megabytes of ordinary code that take the engine a second or more to decode, validate and translate.</summary>
    public static byte[] ManyBusyFunctions(int functions, int pairs)
    {
        List<byte> body = [0x00];
        for (var i = 0; i < pairs; i++)
        {
            body.AddRange([0x41, 0x00, 0x1A]);
        }

        body.Add(0x0B);
        return WithExportedFunctions(functions, [.. body]);
    }

    /// <summary><paramref name="count"/> [] → [] functions sharing <paramref name="body"/>; the first is exported as "run".</summary>
    private static byte[] WithExportedFunctions(int count, byte[] body)
    {
        var functions = new List<byte>(Leb((uint)count));
        var code = new List<byte>(Leb((uint)count));
        for (var i = 0; i < count; i++)
        {
            functions.Add(0x00);
            code.AddRange([.. Leb((uint)body.Length), .. body]);
        }

        return
        [
            .. s_header,
            .. Section(1, [0x01, 0x60, 0x00, 0x00]),
            .. Section(3, [.. functions]),
            .. Section(7, [0x01, 0x03, (byte)'r', (byte)'u', (byte)'n', 0x00, 0x00]),
            .. Section(10, [.. code]),
        ];
    }

    /// <summary>Table bomb (issue 10): <paramref name="count"/> funcref tables of <paramref name="elements"/> entries each, 8 bytes per entry on the host.</summary>
    public static byte[] ManyTables(int count, uint elements)
    {
        var tables = new List<byte>(Leb((uint)count));
        for (var i = 0; i < count; i++)
        {
            tables.AddRange([0x70, 0x00, .. Leb(elements)]);
        }

        return [.. s_header, .. Section(4, [.. tables])];
    }

    /// <summary>A module with one [] → [] function whose body (locals vector included) is <paramref name="body"/>.</summary>
    public static byte[] SingleFunction(byte[] body) =>
    [
        .. s_header,
        .. Section(1, [0x01, 0x60, 0x00, 0x00]),
        .. Section(3, [0x01, 0x00]),
        .. Section(10, [0x01, .. Leb((uint)body.Length), .. body]),
    ];

    public static byte[] Section(byte id, byte[] content) => [id, .. Leb((uint)content.Length), .. content];

    public static byte[] Leb(uint value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value != 0 ? (byte)(b | 0x80) : b);
        }
        while (value != 0);
        return [.. bytes];
    }

    public static byte[] SignedLeb(long value)
    {
        var bytes = new List<byte>();
        while (true)
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            if ((value == 0 && (b & 0x40) == 0) || (value == -1 && (b & 0x40) != 0))
            {
                bytes.Add(b);
                return [.. bytes];
            }

            bytes.Add((byte)(b | 0x80));
        }
    }
}
