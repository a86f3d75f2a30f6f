using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Sandbox.Server.OpenApi;

/// <summary>The document as a whole: what the service is, its two bearer schemes, its tags, and servers without a trailing slash.</summary>
internal sealed class SandboxDocumentTransformer : IOpenApiDocumentTransformer
{
    private static readonly Dictionary<string, string> s_tags = new(StringComparer.Ordinal)
    {
        ["runs"] = "Run code and follow, look up or cancel a run. Needs an agent key.",
        ["agents"] = "The calling agent: its identity, budgets and narrower task tokens. Needs an agent key.",
        ["catalog"] = "What the calling key may use: languages, profiles and the run_code tool in OpenAI, Anthropic or MCP shape.",
        ["health"] = "Liveness, readiness and Prometheus metrics, for orchestrators and monitoring; no key.",
        ["admin"] = "The operator's API over agents, approvals and the audit log. Needs the admin key, never an agent key.",
    };

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "Sandbox";
        document.Info.Description =
            "Runs untrusted code in a sandbox (containers under gVisor or runc, or WebAssembly) with per-run limits, for AI agents and people. " +
            "Failures are RFC 9457 problem details with a stable `code`; a program's own failure (timeout, out of memory, crash) is a 200 whose `result.status` says so.";

        // The framework writes the request's base address with a trailing slash, which doubles the slash before every path.
        foreach (var server in document.Servers ?? [])
        {
            if (server.Url is { Length: > 1 } url && url.EndsWith('/'))
            {
                server.Url = url.TrimEnd('/');
            }
        }

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
        document.Components.SecuritySchemes[KeyRequirement.AgentKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An agent key (`sbxa_…`, from `sandbox agents create` or POST /admin/v1/agents) or a task token (`sbxt_…`, from POST /v1/tokens): `Authorization: Bearer <key>`.",
        };
        document.Components.SecuritySchemes[KeyRequirement.AdminKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "The operator's key, configured as `Sandbox:Guard:AdminKey`: `Authorization: Bearer <key>`. Agent keys are refused; with no admin key configured every call is refused (403 `admin_disabled`).",
        };

        document.Tags ??= new HashSet<OpenApiTag>();
        foreach (var tag in document.Tags)
        {
            if (tag.Name is { } name && s_tags.TryGetValue(name, out var description))
            {
                tag.Description = description;
            }
        }

        return Task.CompletedTask;
    }
}
