using System.Buffers;
using System.Text.Json;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Wasm.Backend;

namespace Sandbox.Wasm.Worker;

/// <summary>
/// The worker's side of its two JSON messages, written by hand over <see cref="Utf8JsonReader"/> and
/// <see cref="Utf8JsonWriter"/>: reading a <see cref="WorkerRequest"/> and writing a <see cref="WasmOutcome"/>, in the
/// shape <see cref="WorkerJsonContext"/> gives them (the service keeps using the context; <c>WorkerJsonTests</c> checks
/// the two agree). Why by hand: the context's first use in a fresh process builds its metadata, which JIT-compiles about
/// 400 generic methods the ReadyToRun image cannot hold (<c>JsonPropertyInfo&lt;long&gt;</c> and the like): about 40 ms
/// of the 135 ms of CPU a warm worker spent before it parked. This code is ours, so it is precompiled.
/// </summary>
internal static class WorkerJson
{
    /// <summary>Deep enough for the request's shape (object, then a list of objects); anything deeper is refused.</summary>
    private const int MaxDepth = 4;

    /// <summary>Reads a request as the context would, more strictly: a required member missing or null, a member twice, or anything after the object is refused.</summary>
    /// <exception cref="JsonException">Not a request.</exception>
    public static WorkerRequest ReadRequest(ReadOnlySpan<byte> json)
    {
        var r = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        Next(ref r, JsonTokenType.StartObject);
        string? runId = null;
        List<string>? args = null;
        Dictionary<string, string>? environment = null;
        byte[]? stdin = null;
        Dictionary<string, byte[]>? files = null;
        List<WorkerPreopen>? preopens = null;
        long? memoryBytes = null, tmpBytes = null, fileSizeBytes = null, stdoutBytes = null, stderrBytes = null, deadlineMs = null, fuel = null;
        ArtifactLimits? artifacts = null;
        bool? callerModule = null;
        WarmSnapshotMode? snapshot = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (Next(ref r) != JsonTokenType.EndObject)
        {
            var name = r.GetString()!;
            if (!seen.Add(name))
            {
                // Fail closed: a member given twice is a request no service writes.
                throw new JsonException($"the request's '{name}' is given twice");
            }

            switch (name)
            {
                case "runId": runId = String(ref r); break;
                case "args": args = Strings(ref r); break;
                case "environment": environment = StringMap(ref r); break;
                case "stdin": stdin = Base64(ref r); break;
                case "files": files = BytesMap(ref r); break;
                case "preopens": preopens = Preopens(ref r); break;
                case "memoryBytes": memoryBytes = Long(ref r); break;
                case "tmpBytes": tmpBytes = Long(ref r); break;
                case "fileSizeBytes": fileSizeBytes = Long(ref r); break;
                case "stdoutBytes": stdoutBytes = Long(ref r); break;
                case "stderrBytes": stderrBytes = Long(ref r); break;
                case "fuel": fuel = NullableLong(ref r); break;
                case "deadlineMs": deadlineMs = Long(ref r); break;
                case "artifacts": artifacts = Artifacts(ref r); break;
                case "callerModule": callerModule = Bool(ref r); break;
                case "snapshot": snapshot = Snapshot(ref r); break;
                default:
                    // As the context does: a member this build does not know is skipped.
                    r.Read();
                    r.Skip();
                    break;
            }
        }

        if (r.Read())
        {
            throw new JsonException("the request has content after its object");
        }

        return new WorkerRequest
        {
            RunId = runId ?? throw Missing("runId"),
            Args = args ?? throw Missing("args"),
            Environment = environment ?? throw Missing("environment"),
            Stdin = stdin ?? [],
            Files = files ?? throw Missing("files"),
            Preopens = preopens ?? throw Missing("preopens"),
            MemoryBytes = memoryBytes ?? throw Missing("memoryBytes"),
            TmpBytes = tmpBytes ?? throw Missing("tmpBytes"),
            FileSizeBytes = fileSizeBytes ?? throw Missing("fileSizeBytes"),
            StdoutBytes = stdoutBytes ?? throw Missing("stdoutBytes"),
            StderrBytes = stderrBytes ?? throw Missing("stderrBytes"),
            Fuel = fuel,
            DeadlineMs = deadlineMs ?? throw Missing("deadlineMs"),
            Artifacts = artifacts,
            CallerModule = callerModule ?? false,
            Snapshot = snapshot ?? WarmSnapshotMode.None,
        };
    }

    /// <summary>The request as the context writes it (for a snapshot's profile binding, and the tests).</summary>
    public static byte[] WriteRequest(WorkerRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("runId"u8, request.RunId);
            w.WriteStartArray("args"u8);
            foreach (var arg in request.Args)
            {
                w.WriteStringValue(arg);
            }

            w.WriteEndArray();
            w.WriteStartObject("environment"u8);
            foreach (var (name, value) in request.Environment)
            {
                w.WriteString(name, value);
            }

            w.WriteEndObject();
            w.WriteBase64String("stdin"u8, request.Stdin);
            w.WriteStartObject("files"u8);
            foreach (var (name, bytes) in request.Files)
            {
                w.WriteBase64String(name, bytes);
            }

            w.WriteEndObject();
            w.WriteStartArray("preopens"u8);
            foreach (var preopen in request.Preopens)
            {
                w.WriteStartObject();
                w.WriteString("guestPath"u8, preopen.GuestPath);
                w.WriteString("path"u8, preopen.Path);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumber("memoryBytes"u8, request.MemoryBytes);
            w.WriteNumber("tmpBytes"u8, request.TmpBytes);
            w.WriteNumber("fileSizeBytes"u8, request.FileSizeBytes);
            w.WriteNumber("stdoutBytes"u8, request.StdoutBytes);
            w.WriteNumber("stderrBytes"u8, request.StderrBytes);
            Number(w, "fuel"u8, request.Fuel);
            w.WriteNumber("deadlineMs"u8, request.DeadlineMs);
            if (request.Artifacts is { } artifacts)
            {
                w.WriteStartObject("artifacts"u8);
                w.WriteNumber("maxFiles"u8, artifacts.MaxFiles);
                w.WriteNumber("maxFileBytes"u8, artifacts.MaxFileBytes);
                w.WriteNumber("maxTotalBytes"u8, artifacts.MaxTotalBytes);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("artifacts"u8);
            }

            w.WriteBoolean("callerModule"u8, request.CallerModule);
            w.WriteString("snapshot"u8, SnapshotName(request.Snapshot));
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The outcome as the context writes it (every member, nulls included; its artifacts never: they go as frames).</summary>
    public static byte[] WriteOutcome(WasmOutcome outcome)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            Number(w, "exitCode"u8, outcome.ExitCode);
            String(w, "trap"u8, outcome.Trap?.ToString());
            String(w, "outputLimit"u8, outcome.OutputLimit?.ToString());
            String(w, "linkError"u8, outcome.LinkError);
            String(w, "memoryMinimumRefused"u8, outcome.MemoryMinimumRefused);
            w.WriteBoolean("missingStart"u8, outcome.MissingStart);
            String(w, "invalidModule"u8, outcome.InvalidModule);
            String(w, "filesRejected"u8, outcome.FilesRejected);
            w.WriteBoolean("outOfMemory"u8, outcome.OutOfMemory);
            String(w, "failure"u8, outcome.Failure);
            w.WriteBoolean("memoryGrowRefused"u8, outcome.MemoryGrowRefused);
            w.WriteNumber("guestMemoryBytes"u8, outcome.GuestMemoryBytes);
            Number(w, "fuelUsed"u8, outcome.FuelUsed);
            w.WriteNumber("outputBytes"u8, outcome.OutputBytes);
            w.WriteBoolean("stdoutTruncated"u8, outcome.StdoutTruncated);
            w.WriteBoolean("stderrTruncated"u8, outcome.StderrTruncated);
            if (outcome.Phases is { } phases)
            {
                w.WriteStartObject("phases"u8);
                Phase(w, "read"u8, phases.Read);
                Phase(w, "compile"u8, phases.Compile);
                Phase(w, "preInit"u8, phases.PreInit);
                Phase(w, "parked"u8, phases.Parked);
                Phase(w, "run"u8, phases.Run);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("phases"u8);
            }

            if (outcome.ArtifactsDropped is { } dropped)
            {
                w.WriteStartArray("artifactsDropped"u8);
                foreach (var artifact in dropped)
                {
                    w.WriteStartObject();
                    w.WriteString("path"u8, artifact.Path);
                    w.WriteString("reason"u8, artifact.Reason);
                    Number(w, "sizeBytes"u8, artifact.SizeBytes);
                    w.WriteString("detail"u8, artifact.Detail);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }
            else
            {
                w.WriteNull("artifactsDropped"u8);
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static JsonException Missing(string name) => new($"the request has no '{name}'");

    /// <summary>Moves to the next token; past the root's end is a truncated request.</summary>
    private static JsonTokenType Next(ref Utf8JsonReader r) =>
        r.Read() ? r.TokenType : throw new JsonException("the request ends early");

    private static void Next(ref Utf8JsonReader r, JsonTokenType expected)
    {
        if (Next(ref r) != expected)
        {
            throw new JsonException($"the request has {r.TokenType} where {expected} belongs");
        }
    }

    private static string String(ref Utf8JsonReader r)
    {
        Next(ref r, JsonTokenType.String);
        return r.GetString()!;
    }

    private static long Long(ref Utf8JsonReader r)
    {
        Next(ref r, JsonTokenType.Number);
        return r.TryGetInt64(out var value) ? value : throw new JsonException("a number in the request is not a 64-bit integer");
    }

    private static long? NullableLong(ref Utf8JsonReader r)
    {
        var copy = r;
        if (Next(ref copy) == JsonTokenType.Null)
        {
            r = copy;
            return null;
        }

        return Long(ref r);
    }

    private static bool Bool(ref Utf8JsonReader r) => Next(ref r) switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        var other => throw new JsonException($"the request has {other} where a boolean belongs"),
    };

    private static byte[] Base64(ref Utf8JsonReader r)
    {
        Next(ref r, JsonTokenType.String);
        return r.TryGetBytesFromBase64(out var bytes) ? bytes : throw new JsonException("the request has a string that is not base64 where bytes belong");
    }

    private static List<string> Strings(ref Utf8JsonReader r)
    {
        Next(ref r, JsonTokenType.StartArray);
        var values = new List<string>();
        while (Next(ref r) != JsonTokenType.EndArray)
        {
            values.Add(r.TokenType == JsonTokenType.String ? r.GetString()! : throw new JsonException($"the request has {r.TokenType} in a list of strings"));
        }

        return values;
    }

    /// <summary>Reads one value of a member; the reader stands before it.</summary>
    private delegate T ValueReader<T>(ref Utf8JsonReader r);

    private static Dictionary<string, string> StringMap(ref Utf8JsonReader r) => Map(ref r, String);

    private static Dictionary<string, byte[]> BytesMap(ref Utf8JsonReader r) => Map(ref r, Base64);

    private static Dictionary<string, T> Map<T>(ref Utf8JsonReader r, ValueReader<T> value)
    {
        Next(ref r, JsonTokenType.StartObject);
        var values = new Dictionary<string, T>(StringComparer.Ordinal);
        while (Next(ref r) != JsonTokenType.EndObject)
        {
            var name = r.GetString()!;
            if (!values.TryAdd(name, value(ref r)))
            {
                throw new JsonException($"the request names '{name}' twice");
            }
        }

        return values;
    }

    private static List<WorkerPreopen> Preopens(ref Utf8JsonReader r)
    {
        Next(ref r, JsonTokenType.StartArray);
        var values = new List<WorkerPreopen>();
        while (Next(ref r) != JsonTokenType.EndArray)
        {
            if (r.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException($"the request has {r.TokenType} where a preopen belongs");
            }

            string? guestPath = null, path = null;
            while (Next(ref r) != JsonTokenType.EndObject)
            {
                switch (r.GetString())
                {
                    case "guestPath" when guestPath is null: guestPath = String(ref r); break;
                    case "path" when path is null: path = String(ref r); break;
                    default: throw new JsonException("a preopen has a member twice or one it should not");
                }
            }

            values.Add(new WorkerPreopen(guestPath ?? throw Missing("guestPath"), path ?? throw Missing("path")));
        }

        return values;
    }

    private static ArtifactLimits? Artifacts(ref Utf8JsonReader r)
    {
        if (Next(ref r) == JsonTokenType.Null)
        {
            return null;
        }

        if (r.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"the request has {r.TokenType} where the artifacts' limits belong");
        }

        // As the context does with the record's constructor: a member not given keeps its default.
        var limits = ArtifactLimits.Default;
        while (Next(ref r) != JsonTokenType.EndObject)
        {
            switch (r.GetString())
            {
                case "maxFiles": limits = limits with { MaxFiles = Long(ref r) is var files and >= int.MinValue and <= int.MaxValue ? (int)files : throw new JsonException("the artifacts' file count is not a 32-bit integer") }; break;
                case "maxFileBytes": limits = limits with { MaxFileBytes = Long(ref r) }; break;
                case "maxTotalBytes": limits = limits with { MaxTotalBytes = Long(ref r) }; break;
                default: throw new JsonException("the artifacts' limits have a member they should not");
            }
        }

        return limits;
    }

    private static WarmSnapshotMode Snapshot(ref Utf8JsonReader r)
    {
        Next(ref r, JsonTokenType.String);
        return r.ValueTextEquals("None"u8) ? WarmSnapshotMode.None
            : r.ValueTextEquals("Take"u8) ? WarmSnapshotMode.Take
            : r.ValueTextEquals("Restore"u8) ? WarmSnapshotMode.Restore
            : throw new JsonException("the request's snapshot mode is unknown");
    }

    private static string SnapshotName(WarmSnapshotMode mode) => mode switch
    {
        WarmSnapshotMode.Take => "Take",
        WarmSnapshotMode.Restore => "Restore",
        _ => "None",
    };

    private static void String(Utf8JsonWriter w, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    private static void Number(Utf8JsonWriter w, ReadOnlySpan<byte> name, long? value)
    {
        if (value is { } number)
        {
            w.WriteNumber(name, number);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void Phase(Utf8JsonWriter w, ReadOnlySpan<byte> name, WorkerPhase? phase)
    {
        if (phase is { } p)
        {
            w.WriteStartObject(name);
            w.WriteNumber("wallMs"u8, p.WallMs);
            w.WriteNumber("cpuMs"u8, p.CpuMs);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
