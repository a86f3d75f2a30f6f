using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Sandbox.Docker.Spec;

/// <summary>Our runner seccomp profile (<c>seccomp/runner.json</c>), embedded at build time and sent inline to Docker.</summary>
public sealed class SeccompProfile
{
    private SeccompProfile(string json)
    {
        Json = json;
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
    }

    /// <summary>The profile as compact JSON text: Docker wants the content in SecurityOpt, not a path.</summary>
    public string Json { get; }

    /// <summary>Hash of <see cref="Json"/>, reported in plans so a run can be tied to the exact profile.</summary>
    public string Sha256 { get; }

    public static SeccompProfile Runner { get; } = LoadEmbedded();

    private static SeccompProfile LoadEmbedded()
    {
        using var stream = typeof(SeccompProfile).Assembly.GetManifestResourceStream("Sandbox.Docker.seccomp.runner.json")
            ?? throw new InvalidOperationException("the seccomp profile is not embedded in Sandbox.Docker; rebuild the project");
        using var document = JsonDocument.Parse(stream);
        if (!document.RootElement.TryGetProperty("defaultAction", out var action) || action.GetString() == "SCMP_ACT_ALLOW")
        {
            // Fail closed: a profile that allows by default would silently weaken every run.
            throw new InvalidOperationException("seccomp/runner.json must deny by default");
        }

        // Re-written compactly: the text travels in every create request.
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            document.RootElement.WriteTo(writer);
        }

        return new SeccompProfile(Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
