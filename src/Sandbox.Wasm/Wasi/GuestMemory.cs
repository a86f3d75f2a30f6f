using System.Buffers.Binary;

namespace Sandbox.Wasm.Wasi;

/// <summary>
/// Bounds-checked view of the caller's linear memory for WASI calls. Every guest pointer and length is
/// checked in 64-bit arithmetic before use; a bad one raises <see cref="GuestFaultException"/>, which the
/// call wrapper turns into EFAULT (the guest gets an error, the host is never touched).
/// </summary>
internal readonly ref struct GuestMemory
{
    private readonly Span<byte> _bytes;

    public GuestMemory(WasmCallContext context)
    {
        _bytes = context.Memory is { } memory ? memory.Span : [];
    }

    public Span<byte> Slice(ulong pointer, ulong length)
    {
        if (pointer > (ulong)_bytes.Length || length > (ulong)_bytes.Length - pointer)
        {
            throw new GuestFaultException();
        }

        return _bytes.Slice((int)pointer, (int)length);
    }

    public uint ReadU32(uint pointer) => BinaryPrimitives.ReadUInt32LittleEndian(Slice(pointer, 4));

    public void WriteU8(uint pointer, byte value) => Slice(pointer, 1)[0] = value;

    public void WriteU16(uint pointer, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Slice(pointer, 2), value);

    public void WriteU32(uint pointer, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Slice(pointer, 4), value);

    public void WriteU64(uint pointer, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Slice(pointer, 8), value);
}
