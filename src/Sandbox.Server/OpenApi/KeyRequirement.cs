namespace Sandbox.Server.OpenApi;

/// <summary>
/// Endpoint metadata saying which key a route checks, put there by the same call that installs the check
/// (<c>RequireAgent()</c>, the admin group's filter), so the OpenAPI document declares exactly the routes that refuse without one.
/// </summary>
internal sealed record KeyRequirement(string Scheme)
{
    /// <summary>The security scheme of agent keys (<c>sbxa_…</c>) and task tokens (<c>sbxt_…</c>) on <c>/v1</c>.</summary>
    public const string AgentKeyScheme = "agentKey";

    /// <summary>The security scheme of the operator's key (<c>Sandbox:Guard:AdminKey</c>) on <c>/admin/v1</c>.</summary>
    public const string AdminKeyScheme = "adminKey";

    public static KeyRequirement AgentKey { get; } = new(AgentKeyScheme);

    public static KeyRequirement AdminKey { get; } = new(AdminKeyScheme);
}
