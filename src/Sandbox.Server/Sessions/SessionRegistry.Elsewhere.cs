using System.Globalization;
using System.Text.Json.Nodes;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Store;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Sessions;

/// <summary>A session on another node (issue 15): its interpreter lives in that node's memory, so this node can only say where it is not.</summary>
internal sealed partial class SessionRegistry
{
    /// <summary>
    /// The 404 for a session this node does not hold: <c>session_on_another_node</c> when a store the nodes share records it
    /// opened by another node for this caller, not closed and not past its lifetime; <c>session_not_found</c> otherwise. One
    /// indexed read of its audit records (the session's id is their run id), made only on the way to a 404.
    /// </summary>
    public async Task<ApiProblem> NotHereAsync(string id, Principal principal, CancellationToken cancellationToken)
    {
        // Only a store several nodes share (one with leases) can hold another node's session; a SQLite file is one node's.
        if (_store is not INodeLeases || !id.StartsWith("ses_", StringComparison.Ordinal))
        {
            return NotFound(id);
        }

        var records = await _store.QueryAuditAsync(new AuditQuery { RunId = id, Kind = AuditKinds.Session, AgentId = principal.Agent.Id, Limit = 10 }, cancellationToken);
        if (records.FirstOrDefault(r => r.Status == "opened") is not { } opened || records.Any(r => r.Status == "closed")
            || JsonNode.Parse(opened.Data) is not JsonObject data)
        {
            return NotFound(id);
        }

        // The same visibility as Find: a task token learns nothing of its agent's other sessions.
        var node = (string?)data["node"];
        var visible = !principal.IsTaskToken || (string?)data["credentialId"] == principal.Credential.Id;
        var open = DateTimeOffset.TryParse((string?)data["expiresAt"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expiresAt)
            && expiresAt > _time.GetUtcNow();

        // Opened here but not held: it ended with an earlier process of this node (a kill leaves no close record).
        if (!visible || !open || node is null || node == _lifecycle.Guard.Options.NodeId)
        {
            return NotFound(id);
        }

        // The node is not named: node ids are the operator's (host names by default), not the agent's business.
        return Problem(404, "session_on_another_node", "The session lives on another node",
            $"session {id} is open on another node of this service, and a session's interpreter lives in the memory of the node that opened it: " +
            $"send its calls to that node (behind a load balancer, route /v1/sessions/{id} to the node that answered its POST, or retry the next node on 404); " +
            "if that node stopped, the session ended with it");
    }
}
