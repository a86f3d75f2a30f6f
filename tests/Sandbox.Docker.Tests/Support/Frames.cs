using System.Buffers.Binary;
using System.Text;
using Sandbox.Docker.Client;

namespace Sandbox.Docker.Tests.Support;

/// <summary>Builds bytes of Docker's multiplexed attach format (8-byte header, then payload).</summary>
internal static class Frames
{
    public static byte[] Frame(StdStream stream, ReadOnlySpan<byte> payload) => Header((byte)stream, (uint)payload.Length, payload);

    public static byte[] Frame(StdStream stream, string payload) => Frame(stream, Encoding.UTF8.GetBytes(payload));

    /// <summary>A header with any type byte (for hostile inputs) followed by <paramref name="payload"/>.</summary>
    public static byte[] Header(byte type, uint size, ReadOnlySpan<byte> payload = default)
    {
        byte[] bytes = new byte[MultiplexedStreamReader.HeaderSize + payload.Length];
        bytes[0] = type;
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), size);
        payload.CopyTo(bytes.AsSpan(MultiplexedStreamReader.HeaderSize));
        return bytes;
    }

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
