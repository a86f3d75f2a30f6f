using System.Text.Json.Serialization;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;

namespace Sandbox.Core.Serialization;

/// <summary>Wire format of requests and results: camelCase, status values in snake_case, source-generated.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(RunRequest))]
[JsonSerializable(typeof(RunResult))]
[JsonSerializable(typeof(ResourceLimits))]
[JsonSerializable(typeof(LimitOverrides))]
[JsonSerializable(typeof(Profile))]
public sealed partial class SandboxJsonContext : JsonSerializerContext;

/// <summary>The profiles file: strict (unknown fields are errors, so typos surface), comments allowed for operators.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(ProfilesDocument))]
[JsonSerializable(typeof(InstalledPackages))]
internal sealed partial class ProfilesJsonContext : JsonSerializerContext;
