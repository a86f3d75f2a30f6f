using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;

namespace Sandbox.Guard.Approvals;

/// <summary>
/// The SHA-256 of everything that decides what an approved run does: language, profile, backend, runtime, every
/// effective limit, the code, stdin, and every file's path and content. Taken when the approval is made and checked
/// again when the approved run is released, from both the approval record (what the approver was shown) and the
/// run's plan (what would execute): a change to any of it in between refuses the run.
/// </summary>
public static class ApprovalDigest
{
    /// <summary>Bumped whenever the encoding changes, so an old digest never matches a new encoding by accident.</summary>
    private const int Version = 1;

    /// <summary>The digest of a plan: what would run.</summary>
    public static string Of(RunPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return Compute(plan.Request.Language, plan.Profile.Name, plan.Backend, plan.Runtime, plan.Limits, plan.Request.Code, plan.Request.Stdin,
            (plan.Request.Files ?? []).Select(f => (f.Path, f.Content)));
    }

    /// <summary>The digest of an approval record: what the approver was shown. Null when the record predates the fields it needs.</summary>
    public static string? Of(Approval approval)
    {
        ArgumentNullException.ThrowIfNull(approval);
        return approval is { Backend: { } backend, Runtime: { } runtime, Limits: { } limits }
            ? Compute(approval.Language, approval.Profile, backend, runtime, limits, approval.Code, approval.Stdin, approval.Files.Select(f => (f.Path, f.Content)))
            : null;
    }

    /// <summary>A file as the approver sees it: size and SHA-256 of the bytes the run would get.</summary>
    public static ApprovalFile File(InputFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var bytes = Encoding.UTF8.GetBytes(file.Content);
        return new ApprovalFile(file.Path, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)), file.Content);
    }

    /// <summary>
    /// A canonical JSON encoding (fixed field order, files in request order, limits in <see cref="ResourceLimits.Enumerate"/>
    /// order), hashed. JSON quoting keeps fields apart: no value can run into the next one.
    /// </summary>
    private static string Compute(string language, string profile, string backend, string runtime, ResourceLimits limits, string code, string? stdin, IEnumerable<(string Path, string Content)> files)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", Version);
            writer.WriteString("language", language);
            writer.WriteString("profile", profile);
            writer.WriteString("backend", backend);
            writer.WriteString("runtime", runtime);
            writer.WriteStartObject("limits");
            foreach (var (name, value) in limits.Enumerate())
            {
                writer.WriteNumber(name, value);
            }

            writer.WriteEndObject();
            writer.WriteString("code", code);
            if (stdin is null)
            {
                writer.WriteNull("stdin");
            }
            else
            {
                writer.WriteString("stdin", stdin);
            }

            writer.WriteStartArray("files");
            foreach (var (path, content) in files)
            {
                writer.WriteStartObject();
                writer.WriteString("path", path);
                writer.WriteString("content", content);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.ToArray()));
    }
}
