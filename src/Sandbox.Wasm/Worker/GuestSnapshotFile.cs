using System.IO.Hashing;
using Sandbox.Wasm.Execution;

namespace Sandbox.Wasm.Worker;

/// <summary>
/// A pre-initialised guest as bytes: a warm worker that ran the guest's start-up to its gate captures it
/// (<see cref="InstanceSnapshot"/> and the WASI host's inode numbers); later warm workers of the same key restore it
/// instead of running the start-up again. Layout: magic, the context it belongs to (a digest over this engine build,
/// the module's digest and the profile's template), the body's length and digest, then the body. <see cref="Open"/>
/// refuses, before reading the body, a snapshot of another engine build, module or profile, and a body whose digest
/// does not match (fail closed: the worker then exits and the pool falls back to a full start-up). The body ends with
/// the taking worker's module image (<see cref="ModuleImage"/>, empty if none): the module decoded and every body
/// translated, so a restoring worker does neither again; the context's binding to this module and engine build is its own.
/// </summary>
/// <remarks>
/// The digests are XxHash128, not SHA-256 (16 GB/s against the SHA-NI's 2.2 here: 0.4–0.9 ms of a restore instead of 5.4).
/// Security: they catch corruption and mix-ups, not forgery, which no digest here could stop: the bytes are taken by a
/// worker at its gate before any agent code runs, from an operator's module (a caller's module never gets a warm
/// worker), and whoever can alter them in the service's memory or the pipes can alter the module and the worker too.
/// </remarks>
internal static class GuestSnapshotFile
{
    private static ReadOnlySpan<byte> Magic => "SBXWSNP2"u8;

    private const int DigestBytes = 16;

    /// <summary>Bytes before the body: magic, context, the body's length and its digest.</summary>
    internal const int HeaderBytes = 8 + DigestBytes + 8 + DigestBytes;

    /// <summary>What a snapshot is valid for: this engine build, exactly this module, exactly this profile and limits.</summary>
    public static byte[] Context(ReadOnlySpan<byte> module, ReadOnlySpan<byte> profile)
    {
        var hash = new XxHash128();
        hash.Append(typeof(GuestSnapshotFile).Assembly.ManifestModule.ModuleVersionId.ToByteArray());
        hash.Append(XxHash128.Hash(module));
        hash.Append(XxHash128.Hash(profile));
        return hash.GetHashAndReset();
    }

    /// <summary>The snapshot's bytes; <paramref name="moduleImage"/> writes the module image (<see cref="ModuleImage"/>) into them, if given.</summary>
    public static byte[] Write(InstanceSnapshot instance, string[][] wasiInodes, ReadOnlySpan<byte> context, Action<Stream>? moduleImage = null)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(wasiInodes);
        using var stream = new MemoryStream();
        stream.Write(new byte[HeaderBytes]);
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(wasiInodes.Length);
            foreach (var paths in wasiInodes)
            {
                writer.Write(paths.Length);
                foreach (var path in paths)
                {
                    writer.Write(path);
                }
            }

            instance.Write(writer);
            writer.Flush();
            var lengthAt = stream.Position;
            writer.Write(0);
            writer.Flush();
            moduleImage?.Invoke(stream);
            var imageLength = checked((int)(stream.Position - lengthAt - 4));
            stream.Position = lengthAt;
            writer.Write(imageLength);
            writer.Flush();
            stream.Position = stream.Length;
        }

        var bytes = stream.ToArray();
        Magic.CopyTo(bytes);
        context.CopyTo(bytes.AsSpan(8));
        Seal(bytes);
        return bytes;
    }

    /// <summary>Writes the body's length and digest into the header of <paramref name="bytes"/> (tests reseal a body they altered on purpose).</summary>
    internal static void Seal(byte[] bytes)
    {
        var body = bytes.AsSpan(HeaderBytes);
        BitConverter.TryWriteBytes(bytes.AsSpan(8 + DigestBytes), (long)body.Length);
        XxHash128.Hash(body, bytes.AsSpan(8 + DigestBytes + 8));
    }

    /// <summary>The snapshot in <paramref name="bytes"/> if it belongs to <paramref name="context"/> and is intact.</summary>
    /// <exception cref="InvalidDataException">Another magic or context, a length or digest that does not match, or a body that does not parse.</exception>
    public static (InstanceSnapshot Instance, string[][] WasiInodes, ArraySegment<byte> ModuleImage) Open(byte[] bytes, ReadOnlySpan<byte> context, int maxPages)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length < HeaderBytes || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
        {
            throw new InvalidDataException("not a guest snapshot (magic)");
        }

        if (!bytes.AsSpan(8, DigestBytes).SequenceEqual(context))
        {
            throw new InvalidDataException("the snapshot belongs to another engine build, module or profile");
        }

        var body = bytes.AsSpan(HeaderBytes);
        Span<byte> digest = stackalloc byte[DigestBytes];
        XxHash128.Hash(body, digest);
        if (BitConverter.ToInt64(bytes, 8 + DigestBytes) != body.Length || !digest.SequenceEqual(bytes.AsSpan(8 + DigestBytes + 8, DigestBytes)))
        {
            throw new InvalidDataException("the snapshot's body does not match its digest (corrupt or altered)");
        }

        // Visible buffer: memory pages are read as views of these bytes, not copied (they are kept until the restore).
        using var reader = new BinaryReader(new MemoryStream(bytes, HeaderBytes, body.Length, writable: false, publiclyVisible: true));
        try
        {
            var inodes = new string[reader.ReadInt32()][];
            if (inodes.Length > 64)
            {
                throw new InvalidDataException("the snapshot names too many preopens");
            }

            for (var i = 0; i < inodes.Length; i++)
            {
                var count = reader.ReadInt32();
                if (count < 0 || count > body.Length)
                {
                    throw new InvalidDataException("a count in the snapshot is past its end");
                }

                inodes[i] = new string[count];
                for (var j = 0; j < count; j++)
                {
                    inodes[i][j] = reader.ReadString();
                }
            }

            var instance = InstanceSnapshot.Read(reader, maxPages);
            var imageLength = reader.ReadInt32();
            var imageAt = (int)reader.BaseStream.Position;
            if (imageLength < 0 || imageLength != reader.BaseStream.Length - imageAt)
            {
                throw new InvalidDataException("the snapshot's module image does not end at its end");
            }

            // A view, not a copy: the image is read into the module before the restore, and its bodies are copied out of these
            // bytes at their first calls, so the module keeps them (nothing writes them after this check).
            return (instance, inodes, new ArraySegment<byte>(bytes, HeaderBytes + imageAt, imageLength));
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("the snapshot ends early", e);
        }
    }
}
