using System.Buffers.Binary;
using System.Text;

namespace Sandbox.Wasm.Decoding;

/// <summary>
/// A cursor over the module bytes with the spec's LEB128 rules: at most ceil(N/7) bytes, unused bits of the
/// last byte zero (unsigned) or a sign extension (signed). Every read is bounds-checked against <see cref="End"/>.
/// </summary>
internal struct WasmReader
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly byte[] _bytes;

    public WasmReader(byte[] bytes, int start, int end)
    {
        _bytes = bytes;
        Position = start;
        End = end;
    }

    public int Position { get; set; }

    public int End { get; set; }

    public readonly bool AtEnd => Position >= End;

    public static WasmDecodeException Malformed(string message, long offset) => new(message) { Offset = offset };

    public byte ReadByte()
    {
        if (Position >= End)
        {
            throw Malformed("unexpected end", Position);
        }

        return _bytes[Position++];
    }

    public readonly byte PeekByte() => Position < End ? _bytes[Position] : throw Malformed("unexpected end", Position);

    public uint ReadU32()
    {
        uint result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = ReadByte();
            if (shift == 28 && (b & 0x70) != 0)
            {
                throw Malformed((b & 0x80) != 0 ? "integer representation too long" : "integer too large", Position - 1);
            }

            result |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }

            if (shift == 28)
            {
                throw Malformed("integer representation too long", Position - 1);
            }
        }
    }

    /// <summary>Reads a u32 used as a count or index and caps it to int range.</summary>
    public int ReadIndex()
    {
        var v = ReadU32();
        return v > int.MaxValue ? int.MaxValue : (int)v;
    }

    public int ReadS32() => (int)ReadSigned(32);

    public long ReadS64() => ReadSigned(64);

    /// <summary>Reads a signed LEB128 of <paramref name="bits"/> bits (32, 33 or 64).</summary>
    public long ReadSigned(int bits)
    {
        long result = 0;
        var shift = 0;
        var maxBytes = (bits + 6) / 7;
        for (var i = 0; ; i++)
        {
            var b = ReadByte();
            if (i == maxBytes - 1)
            {
                // Last allowed byte: no continuation and the unused high bits must extend the sign bit.
                if ((b & 0x80) != 0)
                {
                    throw Malformed("integer representation too long", Position - 1);
                }

                var usedBits = bits - shift;
                var signAndUnused = (b & 0x7F) >> (usedBits - 1);
                var allOnes = (1 << (8 - usedBits)) - 1;
                if (signAndUnused != 0 && signAndUnused != allOnes)
                {
                    throw Malformed("integer too large", Position - 1);
                }
            }

            result |= (long)(b & 0x7F) << shift;
            shift += 7;
            if ((b & 0x80) == 0)
            {
                if (shift < 64 && (b & 0x40) != 0)
                {
                    result |= -1L << shift;
                }

                return result;
            }
        }
    }

    public uint ReadFixed32()
    {
        if (End - Position < 4)
        {
            throw Malformed("unexpected end", Position);
        }

        var v = BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan(Position, 4));
        Position += 4;
        return v;
    }

    public ulong ReadFixed64()
    {
        if (End - Position < 8)
        {
            throw Malformed("unexpected end", Position);
        }

        var v = BinaryPrimitives.ReadUInt64LittleEndian(_bytes.AsSpan(Position, 8));
        Position += 8;
        return v;
    }

    public ReadOnlySpan<byte> ReadBytes(int length)
    {
        if (length < 0 || End - Position < length)
        {
            throw Malformed("unexpected end of section or function", Position);
        }

        var span = _bytes.AsSpan(Position, length);
        Position += length;
        return span;
    }

    public string ReadName()
    {
        var length = ReadIndex();
        if (End - Position < length)
        {
            throw Malformed("length out of bounds", Position);
        }

        try
        {
            return s_strictUtf8.GetString(ReadBytes(length));
        }
        catch (DecoderFallbackException)
        {
            throw Malformed("malformed UTF-8 encoding", Position);
        }
    }

    public WasmValueType ReadValueType()
    {
        var b = ReadByte();
        return b switch
        {
            0x7F or 0x7E or 0x7D or 0x7C or 0x70 or 0x6F => (WasmValueType)b,
            _ => throw Malformed("malformed value type", Position - 1),
        };
    }

    public WasmValueType ReadReferenceType()
    {
        var b = ReadByte();
        return b switch
        {
            0x70 or 0x6F => (WasmValueType)b,
            _ => throw Malformed("malformed reference type", Position - 1),
        };
    }
}
