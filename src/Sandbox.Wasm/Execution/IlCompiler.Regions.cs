using System.Reflection.Emit;
using Sandbox.Wasm.Decoding;

namespace Sandbox.Wasm.Execution;

/// <summary>
/// One region's method: runs the region from its entry <paramref name="entry"/> (an index into
/// <see cref="IlCompiler.Region.Entries"/>) and returns the next instruction to run, in another region, or -1 when the
/// function has returned. -1 as <paramref name="entry"/> returns at once (it makes the .NET JIT compile the method).
/// </summary>
internal delegate int RegionCode(Interpreter runtime, WasmInstance instance, int fp, int entry);

/// <remarks>
/// Large functions in several methods. The .NET JIT optimises a method only under fixed limits (in a release runtime
/// they are constants, not settings: 60,000 bytes of IL, 20,000 IL instructions, 2,000 basic blocks, 2,000 locals and
/// 8,000 local references); past any of them it compiles the whole method without optimisation ("switched MinOpts": no
/// register allocation across blocks, no inlining). CPython's eval loop in one method is about five to eight times over
/// each of them. So a function whose IL is over about 2.5 times <see cref="WasmEngineOptions.CompileRegionIlBytes"/> is
/// cut into regions of consecutive instructions, each a method under the limits, run by <see cref="RegionedCode"/>: at a region's edges
/// the frame's slots live in the value stack at fp (as in the interpreter), inside it in IL locals. A jump out of a
/// region stores the slots the region wrote and returns the target; the dispatcher calls the target's region, which
/// loads the slots it uses. Fuel, interruption (every loop header is inside some region, and every cycle passes one),
/// traps and depth are the single method's, instruction for instruction.
/// </remarks>
internal static partial class IlCompiler
{
    private static readonly Type[] s_regionParameters = s_parameters;

    /// <summary>
    /// The instruction ranges [Start, End) of a split function that one method runs: its own (the first) and copies of
    /// short dispatch blocks that it jumps to (see <see cref="DispatchBlockEnd"/>), entered at <see cref="Entries"/> (in
    /// its own range); <see cref="Heights"/> from the whole function's emission.
    /// </summary>
    internal sealed record Region((int Start, int End)[] Ranges, int[] Entries, int[] Heights, Liveness? Live = null, RegionLinks? Links = null)
    {
        public bool Contains(int pc) => Array.Exists(Ranges, r => pc >= r.Start && pc < r.End);
    }

    /// <summary>
    /// Every region's method and where each instruction is entered (its region, and its index in that region's entries),
    /// so that a jump out of a region goes straight into the target's region: a tail call, not a return to
    /// <see cref="RegionedCode"/> and its indirect call.
    /// </summary>
    internal sealed record RegionLinks(DynamicMethod[] Methods, int[] RegionOf, int[] EntryOf);

    /// <summary>Longest dispatch block (instructions, a br_table's entries included) copied into the regions that jump to it.</summary>
    private const int MaxDispatchBlock = 600;

    /// <summary>Longest return block (instructions, the return included) copied into the regions that jump to it.</summary>
    private const int MaxReturnBlock = 32;

    /// <summary>
    /// Where a dispatch block starting at loop header <paramref name="header"/> ends (exclusive), or -1: straight-line code
    /// from the header to a br_table (an interpreter's `switch (opcode)` in a loop, CPython's eval loop), no other branch
    /// on the way. Each region that jumps back to the header gets its own copy, so a bytecode handler dispatches to the
    /// next one directly instead of through the header's region: one region change per bytecode instead of two, and
    /// none when the next handler is in the same region.
    /// </summary>
    private static int DispatchBlockEnd(Instruction[] code, int header)
    {
        for (var pc = header + 1; pc < code.Length && pc - header < MaxDispatchBlock; pc++)
        {
            switch (code[pc].Op)
            {
                case OpCode.BrTable:
                    var end = pc + code[pc].A + 2;
                    return end - header <= MaxDispatchBlock && end <= code.Length ? end : -1;
                case OpCode.Br or OpCode.BrIf or OpCode.BrUnless or OpCode.BrMove or OpCode.BrIfMove or OpCode.Return
                    or OpCode.Unreachable or OpCode.LoopHeader:
                    return -1;
                default:
                    break;
            }
        }

        return -1;
    }

    /// <summary>
    /// Splits <paramref name="plain"/> (already emitted whole by <paramref name="whole"/>) into regions of at most about
    /// <paramref name="budget"/> bytes of IL and <paramref name="budget"/> / 5 slot references each, and emits them.
    /// </summary>
    private static CompiledCode CompileRegions(CompiledFunction plain, ModuleDefinition module, Emitter whole, int budget)
    {
        var code = plain.Code;
        var heights = whole.Heights;

        // Cut points: instructions the whole emission reached (not a branch fused into its comparison, not a br_table
        // entry, not dead code), once the region holds its budget.
        var starts = new List<int> { 1 };
        var refBudget = Math.Max(1, budget / 5);
        for (var pc = 2; pc < code.Length; pc++)
        {
            var start = starts[^1];
            if (heights[pc] >= 0
                && (whole.IlOffsets[pc] - whole.IlOffsets[start] >= budget || whole.SlotRefs[pc] - whole.SlotRefs[start] >= refBudget))
            {
                starts.Add(pc);
            }
        }

        // A region over the JIT's limits for optimising a method (its copies, entry loads and exit stores are more IL than
        // its own range's, and CPython's eval loop's first region, 22 entries and 180 exits, was over the local reference
        // limit) is cut in two at its middle instruction, and the regions emitted again: the cuts change every region's
        // entries. Every region over them is cut in the same pass, so the passes are logarithmic in the function's size,
        // not linear. One that cannot be cut (a single instruction) stays as it is, optimised or not.
        var live = Liveness.Compute(whole.Units, plain.MaxHeight);
        while (true)
        {
            var tooLarge = new List<int>();
            var compiled = TryEmitRegions(plain, module, whole, live, starts, tooLarge);
            if (compiled is not null)
            {
                return compiled;
            }

            var cuts = new List<int>();
            foreach (var r in tooLarge)
            {
                var start = starts[r];
                var end = r + 1 < starts.Count ? starts[r + 1] : code.Length;
                var middle = start + ((end - start) / 2);
                while (middle < end && heights[middle] < 0)
                {
                    middle++;
                }

                if (middle >= end)
                {
                    middle = start + 1;
                    while (middle < end && heights[middle] < 0)
                    {
                        middle++;
                    }
                }

                if (middle > start && middle < end)
                {
                    cuts.Add(middle);
                }
            }

            if (cuts.Count == 0)
            {
                return TryEmitRegions(plain, module, whole, live, starts, tooLarge: null)!;
            }

            starts.AddRange(cuts);
            starts.Sort();
        }
    }

    /// <summary>
    /// Emits and compiles the regions that start at <paramref name="starts"/>; null when a region is over the JIT's limits,
    /// with every such region added to <paramref name="tooLarge"/> (null: compile them as they are).
    /// </summary>
    private static CompiledCode? TryEmitRegions(CompiledFunction plain, ModuleDefinition module, Emitter whole, Liveness? live, List<int> starts, List<int>? tooLarge)
    {
        var code = plain.Code;
        var heights = whole.Heights;
        var regionOf = new int[code.Length + 1];
        Array.Fill(regionOf, -1);
        for (var r = 0; r < starts.Count; r++)
        {
            var end = r + 1 < starts.Count ? starts[r + 1] : code.Length;
            regionOf.AsSpan(starts[r], end - starts[r]).Fill(r);
        }

        // Ranges: each region's own, plus a copy of each dispatch block it jumps to (not overlapping its own range).
        var ranges = new List<(int Start, int End)>[starts.Count];
        var loopHeaders = new List<int>();
        for (var r = 0; r < starts.Count; r++)
        {
            ranges[r] = [(starts[r], r + 1 < starts.Count ? starts[r + 1] : code.Length)];
        }

        var dispatchEnd = new Dictionary<int, int>();
        for (var pc = 0; pc < code.Length; pc++)
        {
            if (code[pc].Op == OpCode.LoopHeader)
            {
                loopHeaders.Add(pc);
                if (heights[pc] >= 0 && DispatchBlockEnd(code, pc) is var end and > 0)
                {
                    dispatchEnd[pc] = end;
                }
            }
            else if (code[pc].Op == OpCode.BrTable)
            {
                pc += code[pc].A + 1;
            }
        }

        // Return blocks: short straight-line code from a jump target to a return (a function's epilogue), copied into every
        // region that jumps to it, so a call whose path ends there returns from the region it is in.
        var returnEnd = new Dictionary<int, int>();
        ForEachJump(0, code.Length, (_, to) =>
        {
            if (!returnEnd.ContainsKey(to) && ReturnBlockEnd(to) is var end and > 0)
            {
                returnEnd[to] = end;
            }
        });

        var returnCopies = 0;
        if (dispatchEnd.Count > 0 || returnEnd.Count > 0)
        {
            for (var r = 0; r < starts.Count; r++)
            {
                var (own, ownEnd) = ranges[r][0];
                var copies = new SortedDictionary<int, int>();
                ForEachJump(own, ownEnd, (_, to) =>
                {
                    if ((dispatchEnd.TryGetValue(to, out var end) || returnEnd.TryGetValue(to, out end)) && (end <= own || to >= ownEnd))
                    {
                        copies[to] = end;
                    }
                });
                foreach (var (start, end) in copies)
                {
                    // Copies never overlap each other (a return block inside a dispatch block's copy is run from there).
                    if (ranges[r].All(range => end <= range.Start || start >= range.End))
                    {
                        ranges[r].Add((start, end));
                        returnCopies += dispatchEnd.ContainsKey(start) ? 0 : 1;
                    }
                }
            }
        }

        // Entries: each region's first instruction, its loop headers (on-stack replacement enters there), and every
        // target of a jump from outside its ranges (a jump from a copy lands in the target's own region).
        var regions = new Region[starts.Count];
        var entries = new SortedSet<int>[starts.Count];
        for (var r = 0; r < starts.Count; r++)
        {
            entries[r] = [starts[r]];
        }

        foreach (var header in loopHeaders)
        {
            if (regionOf[header] >= 0)
            {
                entries[regionOf[header]].Add(header);
            }
        }

        for (var r = 0; r < starts.Count; r++)
        {
            var region = new Region([.. ranges[r]], [], heights);
            regions[r] = region;
            foreach (var (start, end) in ranges[r])
            {
                ForEachJump(start, end, (_, to) =>
                {
                    if ((uint)to < (uint)code.Length && regionOf[to] >= 0 && !region.Contains(to))
                    {
                        entries[regionOf[to]].Add(to);
                    }
                });
            }
        }

        var entryOf = new int[code.Length + 1];
        var methods = new RegionCode[starts.Count];
        var dynamicMethods = new DynamicMethod[starts.Count];
        var lists = new int[starts.Count][];
        for (var r = 0; r < starts.Count; r++)
        {
            lists[r] = entries[r].Where(e => heights[e] >= 0).ToArray();
            for (var k = 0; k < lists[r].Length; k++)
            {
                entryOf[lists[r][k]] = k;
            }

            dynamicMethods[r] = new DynamicMethod("wasm_region", typeof(int), s_regionParameters, typeof(IlCompiler).Module, skipVisibility: true);
        }

        var links = new RegionLinks(dynamicMethods, regionOf, entryOf);
        for (var r = 0; r < starts.Count; r++)
        {
            var ilBytes = ranges[r].Sum(range => whole.IlOffsets[NextEmitted(range.End)] - whole.IlOffsets[range.Start]);
            var emitter = new Emitter(plain, module, dynamicMethods[r].GetILGenerator(ilBytes + 1024), regions[r] with { Entries = lists[r], Live = live, Links = links });
            emitter.Emit();
            if (tooLarge is not null && !emitter.FitsJitOptimizer)
            {
                tooLarge.Add(r);
            }
        }

        if (tooLarge is { Count: > 0 })
        {
            return null;
        }

        // Every region's method is compiled now, not at its first entry: a method the JIT rejects (InvalidProgramException)
        // must make the whole function decline before any of it runs, as for an unsplit one. Bound again once compiled.
        for (var r = 0; r < starts.Count; r++)
        {
            ((RegionCode)dynamicMethods[r].CreateDelegate(typeof(RegionCode), s_closure))(null!, null!, 0, -1);
            methods[r] = (RegionCode)BindCompiled(dynamicMethods[r], typeof(RegionCode));
        }

        return new RegionedCode(plain, methods, regionOf, entryOf, [.. loopHeaders], ranges.Sum(r => r.Count - 1) - returnCopies, returnCopies).Run;

        // Where a return block starting at target ends (exclusive): at most MaxReturnBlock instructions straight to a
        // return, no branch, loop header or trap on the way; -1 otherwise.
        int ReturnBlockEnd(int target)
        {
            if ((uint)target >= (uint)code.Length || heights[target] < 0)
            {
                return -1;
            }

            for (var pc = target; pc < code.Length && pc - target < MaxReturnBlock; pc++)
            {
                switch (code[pc].Op)
                {
                    case OpCode.Return:
                        return pc + 1;
                    case OpCode.Br or OpCode.BrIf or OpCode.BrUnless or OpCode.BrMove or OpCode.BrIfMove or OpCode.BrTable
                        or OpCode.LoopHeader or OpCode.Unreachable:
                        return -1;
                    default:
                        break;
                }
            }

            return -1;
        }

        // The first instruction at or after pc that the whole emission reached (br_table entries and dead code have no IL).
        int NextEmitted(int pc)
        {
            while (pc < code.Length && heights[pc] < 0)
            {
                pc++;
            }

            return pc;
        }

        void ForEachJump(int start, int end, Action<int, int> jump)
        {
            for (var pc = start; pc < end; pc++)
            {
                var ins = code[pc];
                switch (ins.Op)
                {
                    case OpCode.Br:
                    case OpCode.BrIf:
                    case OpCode.BrUnless:
                    case OpCode.BrMove:
                    case OpCode.BrIfMove:
                        jump(pc, ins.A);
                        break;
                    case OpCode.BrTable:
                        for (var k = 0; k <= ins.A; k++)
                        {
                            jump(pc, code[pc + 1 + k].A);
                        }

                        pc += ins.A + 1;
                        break;
                    default:
                        break;
                }
            }
        }
    }

    private sealed partial class Emitter
    {
        /// <summary>Targets outside the region (exits), each stored through a stub at the end of the method.</summary>
        private readonly SortedSet<int> _exits = [];

        /// <summary>
        /// A region's method: body first (entered through the prologue at its end, as the loop entries of a whole method), then
        /// one stub per exit (its target in a local, then the store block of the target's height: each slot below that height
        /// which this region writes goes back to the value stack), then the prologue: the slots the region uses, loaded from
        /// the value stack, and a switch on the entry.
        /// </summary>
        private void EmitRegion(Region region)
        {
            var il = _il;
            DeclareLocals();
            var exitPc = il.DeclareLocal(typeof(int));
            foreach (var entry in region.Entries)
            {
                Target(entry);
            }

            // The instruction after each range is a target too: no comparison here fuses with a branch over there.
            foreach (var (_, end) in region.Ranges)
            {
                if (end < _code.Length && _heights[end] >= 0)
                {
                    Target(end);
                }
            }

            var prologue = il.DefineLabel();
            il.Emit(OpCodes.Br, prologue);
            foreach (var (start, end) in region.Ranges)
            {
                for (var pc = start; pc < end; pc++)
                {
                    var h = _heights[pc];
                    if (_isTarget[pc])
                    {
                        il.MarkLabel(_labels[pc]);
                    }

                    if (h < 0)
                    {
                        continue;
                    }

                    _pc = pc;
                    var next = EmitInstruction(ref pc, h);
                    if (next >= 0)
                    {
                        Flow(pc + 1, next);
                    }
                }

                // Falling off the range: on to the next instruction (a copied dispatch block ends in its br_table instead).
                if (end < _code.Length && _heights[end] >= 0)
                {
                    il.Emit(OpCodes.Br, _labels[end]);
                }
                else
                {
                    EmitRet();
                }
            }

            // Stubs: the target's entry (or, unlinked, the target) in exitPc, then one store block per set of slots to
            // store (those this region writes that are live at the target: below its height; every one below it when
            // liveness is unknown) and per target region, which it enters by a tail call: a jump, so a loop through
            // several regions runs in constant host stack, as through RegionedCode. Without links, the block returns
            // the target to RegionedCode.
            var live = region.Live;
            var links = region.Links;
            var blocks = new Dictionary<string, (Label Block, int[] Slots, int Region)>(StringComparer.Ordinal);
            foreach (var target in _exits)
            {
                var height = _heights[target];
                if (height < 0)
                {
                    throw new NotSupportedException("a jump out of a region into dead code");
                }

                var targetRegion = links is null ? -1 : links.RegionOf[target];
                var stores = Enumerable.Range(0, height).Where(slot => _written[slot] && (live is null || live.IsLive(target, slot))).ToArray();
                var key = $"{targetRegion}:{string.Join(',', stores)}";
                if (!blocks.TryGetValue(key, out var block))
                {
                    blocks[key] = block = (il.DefineLabel(), stores, targetRegion);
                }

                il.MarkLabel(_labels[target]);
                il.Emit(OpCodes.Ldc_I4, targetRegion >= 0 ? links!.EntryOf[target] : target);
                il.Emit(OpCodes.Stloc, exitPc);
                il.Emit(OpCodes.Br, block.Block);
            }

            foreach (var (block, slots, targetRegion) in blocks.Values)
            {
                il.MarkLabel(block);
                LoadStack();
                foreach (var slot in slots)
                {
                    il.Emit(OpCodes.Ldloc, _stack);
                    StackIndex(slot);
                    il.Emit(OpCodes.Ldloc, _slots[slot]);
                    il.Emit(OpCodes.Stelem_I8);
                }

                if (targetRegion >= 0)
                {
                    il.Emit(OpCodes.Ldarg_0);
                    il.Emit(OpCodes.Ldarg_1);
                    il.Emit(OpCodes.Ldarg_2);
                    il.Emit(OpCodes.Ldarg_3);
                    il.Emit(OpCodes.Ldloc, exitPc);
                    il.Emit(OpCodes.Tailcall);
                    il.Emit(OpCodes.Call, links!.Methods[targetRegion]);
                }
                else
                {
                    il.Emit(OpCodes.Ldloc, exitPc);
                }

                il.Emit(OpCodes.Ret);
            }

            // Prologue, then a switch on the entry. Each entry loads the slots the region reads or writes that are live
            // there: a stub stores back only slots live at its target, and one live there that this path did not write
            // is live at the entry too, so it was loaded. Without liveness, every slot the region touches below the
            // highest entry's height is loaded once for all entries (a stub may store one a path did not write).
            il.MarkLabel(prologue);
            var run = il.DefineLabel();
            il.Emit(OpCodes.Ldarg_S, (byte)4);
            il.Emit(OpCodes.Ldc_I4_M1);
            il.Emit(OpCodes.Bne_Un, run);
            il.Emit(OpCodes.Ldc_I4_M1);
            il.Emit(OpCodes.Ret);
            il.MarkLabel(run);
            LoadEntryState();
            LoadStack();
            if (live is null)
            {
                var reload = region.Entries.Max(e => _heights[e]);
                LoadSlots(Enumerable.Range(0, reload).Where(slot => _read[slot] || _written[slot]));
                il.Emit(OpCodes.Ldarg_S, (byte)4);
                il.Emit(OpCodes.Switch, region.Entries.Select(e => _labels[e]).ToArray());
                Trap(WasmTrapKind.Unreachable);
                EmitTraps();
                return;
            }

            var loads = region.Entries.Select(_ => il.DefineLabel()).ToArray();
            il.Emit(OpCodes.Ldarg_S, (byte)4);
            il.Emit(OpCodes.Switch, loads);
            Trap(WasmTrapKind.Unreachable);
            for (var k = 0; k < loads.Length; k++)
            {
                var entry = region.Entries[k];
                il.MarkLabel(loads[k]);
                LoadSlots(Enumerable.Range(0, _heights[entry]).Where(slot => (_read[slot] || _written[slot]) && live.IsLive(entry, slot)));
                il.Emit(OpCodes.Br, _labels[entry]);
            }

            EmitTraps();

            void LoadSlots(IEnumerable<int> slots)
            {
                foreach (var slot in slots)
                {
                    il.Emit(OpCodes.Ldloc, _stack);
                    StackIndex(slot);
                    il.Emit(OpCodes.Ldelem_I8);
                    il.Emit(OpCodes.Stloc, _slots[slot]);
                }
            }
        }
    }
}

/// <summary>A split function's entry (a <see cref="CompiledCode"/>): runs its regions until one returns from the function.</summary>
internal sealed class RegionedCode(CompiledFunction function, RegionCode[] regions, int[] regionOf, int[] entryOf, int[] loopHeaders, int dispatchCopies, int returnCopies)
{
    /// <summary>Methods the function is split into (tests check a loop through them crosses many region edges).</summary>
    public int Regions => regions.Length;

    /// <summary>Copies of return blocks in the regions (tests check the copies are made).</summary>
    public int ReturnCopies => returnCopies;

    /// <summary>Copies of dispatch blocks in the regions (tests check the copies are exercised).</summary>
    public int DispatchCopies => dispatchCopies;

    public void Run(Interpreter runtime, WasmInstance instance, int fp, int entryLoop)
    {
        int pc;
        if (entryLoop == 0)
        {
            Interpreter.EnterRegions(runtime, fp, function);
            pc = 1;
        }
        else
        {
            pc = loopHeaders[entryLoop - 1];
        }

        do
        {
            pc = regions[regionOf[pc]](runtime, instance, fp, entryOf[pc]);
        }
        while (pc >= 0);
    }
}
