using System.Text.Json.Serialization;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Server.Hosting;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Http;

/// <summary>The service's wire format: camelCase, source-generated, strict about unknown request fields so typos surface.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    // Backs up StrictJson: a key given twice is refused, never last-wins, whoever deserializes with this context.
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(RunRequestBody))]
[JsonSerializable(typeof(RunView))]
[JsonSerializable(typeof(RunInputs))]
[JsonSerializable(typeof(ReplayView))]
[JsonSerializable(typeof(DryRunView))]
[JsonSerializable(typeof(RunResult))]
[JsonSerializable(typeof(LanguageView))]
[JsonSerializable(typeof(IReadOnlyList<LanguageView>))]
[JsonSerializable(typeof(Profile))]
[JsonSerializable(typeof(IReadOnlyList<Profile>))]
[JsonSerializable(typeof(ReadinessReport))]
[JsonSerializable(typeof(FieldError))]
[JsonSerializable(typeof(StreamText))]
[JsonSerializable(typeof(AgentView))]
[JsonSerializable(typeof(IReadOnlyList<AgentView>))]
[JsonSerializable(typeof(AgentDetailView))]
[JsonSerializable(typeof(IssuedKeyView))]
[JsonSerializable(typeof(RevokedView))]
[JsonSerializable(typeof(ApprovalAdminView))]
[JsonSerializable(typeof(IReadOnlyList<ApprovalAdminView>))]
[JsonSerializable(typeof(AuditRecordView))]
[JsonSerializable(typeof(IReadOnlyList<AuditRecordView>))]
[JsonSerializable(typeof(Sandbox.Guard.Audit.AuditVerification))]
[JsonSerializable(typeof(TokenView))]
[JsonSerializable(typeof(MeView))]
[JsonSerializable(typeof(TokenRequestBody))]
[JsonSerializable(typeof(CreateAgentBody))]
[JsonSerializable(typeof(AdminActionBody))]
public sealed partial class ServerJsonContext : JsonSerializerContext;
