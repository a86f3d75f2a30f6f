namespace Sandbox.Wasm.Execution;

/// <remarks>
/// Which frame slots are live (may be read before they are written) at each instruction of a function, from the whole
/// emission's own record: the slots each emitted unit (an instruction, or a comparison with the branch fused into it)
/// loads and stores, in order, and the control transfers it made (<c>Flow</c>). Regions use it at their edges: an entry
/// loads only the slots live there, and an exit stores only the slots it wrote that are live at its target, where they
/// loaded and stored every slot they touch (CPython's eval loop changes region about once per bytecode, with 17-23 loads
/// and 12-18 stores each).
/// </remarks>
internal static partial class IlCompiler
{
    /// <summary>Live slots on entry to each unit, one bit per slot (null for a pc that starts no unit); null when unknown.</summary>
    internal sealed class Liveness(ulong[]?[] liveIn)
    {
        public bool IsLive(int pc, int slot) => liveIn[pc] is { } bits && (bits[slot >> 6] & (1UL << slot)) != 0;

        public static Liveness? Compute(UnitRecord? units, int slots)
        {
            if (units is null)
            {
                return null;
            }

            var words = (slots + 63) >> 6;
            var count = units.Starts.Count;
            var index = new Dictionary<int, int>(count);
            for (var u = 0; u < count; u++)
            {
                index[units.Starts[u]] = u;
            }

            var use = new ulong[count * words];
            var def = new ulong[count * words];
            var successors = new int[count][];
            for (var u = 0; u < count; u++)
            {
                var targets = units.Successors(u);
                var next = new int[targets.Length];
                for (var k = 0; k < targets.Length; k++)
                {
                    // A transfer into the middle of a unit cannot be told apart: no liveness, regions keep every slot.
                    if (!index.TryGetValue(targets[k], out next[k]))
                    {
                        return null;
                    }
                }

                successors[u] = next;

                // Use: a slot loaded before the unit stores it. Def: a slot the unit stores on every path, which only a
                // unit with one way out is sure of (a conditional move stores on its taken branch alone): one with
                // several keeps every slot live through it, and counts every load.
                var sure = next.Length <= 1;
                var u0 = u * words;
                foreach (var e in units.Events(u))
                {
                    var slot = e >> 1;
                    var bit = 1UL << slot;
                    ref var d = ref def[u0 + (slot >> 6)];
                    if ((e & 1) == 0)
                    {
                        if (!sure || (d & bit) == 0)
                        {
                            use[u0 + (slot >> 6)] |= bit;
                        }
                    }
                    else if (sure)
                    {
                        d |= bit;
                    }
                }
            }

            // Backwards to a fixed point: live-in = use | (live-out & ~def), live-out = the union of the successors' live-in.
            var live = new ulong[count * words];
            Array.Copy(use, live, use.Length);
            var changed = true;
            while (changed)
            {
                changed = false;
                for (var u = count - 1; u >= 0; u--)
                {
                    var u0 = u * words;
                    foreach (var s in successors[u])
                    {
                        var s0 = s * words;
                        for (var w = 0; w < words; w++)
                        {
                            var added = live[s0 + w] & ~def[u0 + w] & ~live[u0 + w];
                            if (added != 0)
                            {
                                live[u0 + w] |= added;
                                changed = true;
                            }
                        }
                    }
                }
            }

            var liveIn = new ulong[]?[units.CodeLength + 1];
            for (var u = 0; u < count; u++)
            {
                liveIn[units.Starts[u]] = live.AsSpan(u * words, words).ToArray();
            }

            return new Liveness(liveIn);
        }
    }

    /// <summary>What the whole emission recorded per unit: its first pc, its slot loads and stores, and where control went.</summary>
    internal sealed class UnitRecord(int codeLength)
    {
        private readonly List<int> _eventStart = [];
        private readonly List<int> _events = [];
        private readonly List<int> _successorStart = [];
        private readonly List<int> _successors = [];

        public int CodeLength => codeLength;

        public List<int> Starts { get; } = [];

        public void Begin(int pc)
        {
            Starts.Add(pc);
            _eventStart.Add(_events.Count);
            _successorStart.Add(_successors.Count);
        }

        /// <summary>A load (<paramref name="store"/> false) or store of <paramref name="slot"/> by the current unit.</summary>
        public void Slot(int slot, bool store) => _events.Add((slot << 1) | (store ? 1 : 0));

        public void Flow(int target)
        {
            for (var i = _successorStart[^1]; i < _successors.Count; i++)
            {
                if (_successors[i] == target)
                {
                    return;
                }
            }

            _successors.Add(target);
        }

        public ReadOnlySpan<int> Events(int unit) =>
            System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_events)[_eventStart[unit]..(unit + 1 < _eventStart.Count ? _eventStart[unit + 1] : _events.Count)];

        public int[] Successors(int unit) =>
            System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_successors)[_successorStart[unit]..(unit + 1 < _successorStart.Count ? _successorStart[unit + 1] : _successors.Count)].ToArray();
    }
}
