using System.Buffers.Binary;

namespace Sandbox.Wasm.Wasi;

/// <remarks>poll_oneoff: clock subscriptions (sleep) and readiness of stdin, stdout, stderr and files.</remarks>
public sealed partial class WasiHost
{
    private const int SubscriptionBytes = 48;
    private const int EventBytes = 32;
    private const ushort AbsoluteTime = 1;
    private const ushort HangUp = 1;

    /// <summary>
    /// Most subscriptions in one poll_oneoff. Without a cap the count is bounded only by guest memory, and the host's
    /// per-subscription bookkeeping followed it (5.5M subscriptions reached 865 MB). wasi-libc's poll() asks two
    /// per descriptor plus a clock, so this covers polling 2,000 descriptors; past it the call fails with EINVAL,
    /// as poll(2) does past RLIMIT_NOFILE.
    /// </summary>
    internal const int MaxPollSubscriptions = 4096;

    /// <summary>Longest single sleep (Task.Delay's limit); the run's deadline ends any sleep long before it.</summary>
    private static readonly TimeSpan s_longestSleep = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private int PollOneoff(WasmCallContext context, Span<ulong> args)
    {
        var count = (uint)args[2];
        if (count == 0)
        {
            return WasiErrno.Invalid;
        }

        var memory = new GuestMemory(context);
        var input = (uint)args[0];
        var output = (uint)args[1];
        memory.Slice(input, (ulong)count * SubscriptionBytes);
        memory.Slice(output, (ulong)count * EventBytes);
        memory.Slice((uint)args[3], 4);

        // Bounds first (EFAULT, as before), then the count, both before anything is allocated per subscription.
        if (count > MaxPollSubscriptions)
        {
            return WasiErrno.Invalid;
        }

        var events = new List<(ulong UserData, ushort Error, byte Type, ulong Bytes, ushort Flags)>();
        var clocks = new List<(ulong UserData, ulong Deadline, uint Clock)>();
        for (var i = 0u; i < count; i++)
        {
            var sub = memory.Slice(input + (i * SubscriptionBytes), SubscriptionBytes);
            var userData = BinaryPrimitives.ReadUInt64LittleEndian(sub);
            var tag = sub[8];
            switch (tag)
            {
                case 0:
                    var clock = BinaryPrimitives.ReadUInt32LittleEndian(sub[16..]);
                    var timeout = BinaryPrimitives.ReadUInt64LittleEndian(sub[24..]);
                    var flags = BinaryPrimitives.ReadUInt16LittleEndian(sub[40..]);
                    if (Now(clock) is not { } now)
                    {
                        events.Add((userData, WasiErrno.Invalid, 0, 0, 0));
                        break;
                    }

                    var deadline = (flags & AbsoluteTime) != 0 ? timeout : now + Math.Min(timeout, ulong.MaxValue - now);
                    clocks.Add((userData, deadline, clock));
                    break;
                case 1:
                case 2:
                    var fd = BinaryPrimitives.ReadUInt32LittleEndian(sub[16..]);
                    events.Add(Readiness(userData, tag, fd));
                    break;
                default:
                    return WasiErrno.Invalid;
            }
        }

        if (events.Count == 0)
        {
            // Only clocks: sleep until the earliest one, cut short by the run's deadline.
            var earliest = clocks.MinBy(c => Remaining(c.Deadline, c.Clock));
            Sleep(context, earliest.Deadline, earliest.Clock);
            foreach (var c in clocks)
            {
                if (c == earliest || Remaining(c.Deadline, c.Clock) == TimeSpan.Zero)
                {
                    events.Add((c.UserData, 0, 0, 0, 0));
                }
            }
        }
        else
        {
            // Something is ready now: clocks that have already expired fire with it, the rest do not wait.
            events.AddRange(clocks.Where(c => Remaining(c.Deadline, c.Clock) == TimeSpan.Zero).Select(c => (c.UserData, (ushort)0, (byte)0, 0UL, (ushort)0)));
        }

        for (var i = 0; i < events.Count; i++)
        {
            var (userData, error, type, bytes, flags) = events[i];
            var e = memory.Slice(output + (uint)(i * EventBytes), EventBytes);
            e.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(e, userData);
            BinaryPrimitives.WriteUInt16LittleEndian(e[8..], error);
            e[10] = type;
            BinaryPrimitives.WriteUInt64LittleEndian(e[16..], bytes);
            BinaryPrimitives.WriteUInt16LittleEndian(e[24..], flags);
        }

        memory.WriteU32((uint)args[3], (uint)events.Count);
        return WasiErrno.Success;
    }

    private (ulong UserData, ushort Error, byte Type, ulong Bytes, ushort Flags) Readiness(ulong userData, byte type, uint fd)
    {
        // Stdin is a buffer and outputs never block: all are always ready (no guest ever waits on them).
        if (type == 1 && fd == 0)
        {
            var left = (ulong)(_stdin.Length - _stdinPosition);
            return (userData, 0, type, left, left == 0 ? HangUp : (ushort)0);
        }

        if (type == 2 && fd is 1 or 2)
        {
            return (userData, 0, type, 0, 0);
        }

        if (_descriptors.TryGetValue(fd, out var descriptor) && descriptor.File is { } file)
        {
            return (userData, 0, type, type == 1 ? (ulong)Math.Max(0, file.Length - descriptor.Position) : 0, 0);
        }

        return (userData, WasiErrno.BadFileDescriptor, type, 0, 0);
    }

    private TimeSpan Remaining(ulong deadline, uint clock)
    {
        var now = Now(clock) ?? 0;
        return deadline <= now ? TimeSpan.Zero : TimeSpan.FromTicks((long)Math.Min((deadline - now) / 100, (ulong)long.MaxValue));
    }

    private void Sleep(WasmCallContext context, ulong deadline, uint clock)
    {
        // Timers run on a millisecond tick and may fire a little early against the nanosecond clocks the
        // guest reads, so sleep again until the deadline has really passed: a guest never wakes before it.
        while (Remaining(deadline, clock) is var remaining && remaining > TimeSpan.Zero)
        {
            if (_options.Interrupt.IsCancellationRequested || context.Engine.Interpreter.InterruptRequested)
            {
                throw new WasmTrapException(WasmTrapKind.Interrupted);
            }

            var wait = TimeSpan.FromMilliseconds(Math.Ceiling(remaining.TotalMilliseconds));
            try
            {
                // A dedicated execution thread blocks here; the token (the run's deadline) wakes it early.
                Task.Delay(wait < s_longestSleep ? wait : s_longestSleep, _options.TimeProvider, _options.Interrupt).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                throw new WasmTrapException(WasmTrapKind.Interrupted);
            }
        }

        if (_options.Interrupt.IsCancellationRequested || context.Engine.Interpreter.InterruptRequested)
        {
            throw new WasmTrapException(WasmTrapKind.Interrupted);
        }
    }
}
