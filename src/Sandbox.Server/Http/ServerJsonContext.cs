using System.Text.Json.Serialization;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Server.Hosting;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Http;

/// <summary>The service's wire format: camelCase, source-generated, strict about unknown request fields so typos surface.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(RunRequestBody))]
[JsonSerializable(typeof(RunView))]
[JsonSerializable(typeof(DryRunView))]
[JsonSerializable(typeof(RunResult))]
[JsonSerializable(typeof(LanguageView))]
[JsonSerializable(typeof(IReadOnlyList<LanguageView>))]
[JsonSerializable(typeof(Profile))]
[JsonSerializable(typeof(IReadOnlyList<Profile>))]
[JsonSerializable(typeof(ReadinessReport))]
[JsonSerializable(typeof(FieldError))]
[JsonSerializable(typeof(StreamText))]
public sealed partial class ServerJsonContext : JsonSerializerContext;
