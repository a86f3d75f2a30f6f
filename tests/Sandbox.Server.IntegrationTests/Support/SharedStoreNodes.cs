using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;

namespace Sandbox.Server.IntegrationTests.Support;

/// <summary>
/// Real <c>sandbox serve</c> nodes on one PostgreSQL database, as a cluster's nodes are, each with a data folder of its
/// own. Disposing kills every node still running and removes the folders. The agents a test needs are made on the
/// database first (<see cref="CreateAgentAsync"/>), as an operator would before starting the nodes.
/// </summary>
internal sealed class SharedStoreNodes(string connectionString, string adminKey, string label) : IDisposable
{
    private readonly List<string> _folders = [];

    /// <summary>Every node started, in order.</summary>
    public List<ServeProcess> Processes { get; } = [];

    /// <summary>Makes an agent on the shared database and returns its key.</summary>
    public static async Task<string> CreateAgentAsync(string connectionString, AgentSpec spec, CancellationToken cancellationToken)
    {
        await using var store = await PostgresGuardStore.OpenAsync(connectionString, TimeProvider.System, cancellationToken);
        var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(spec, "test", cancellationToken);
        return created.Value.ShouldNotBeNull(created.Message).Key;
    }

    /// <summary>Starts a node named <paramref name="nodeId"/> on the shared store, with <paramref name="settings"/> on top.</summary>
    public ServeProcess Start(string nodeId, IReadOnlyDictionary<string, string>? settings = null)
    {
        var data = Path.Join(Path.GetTempPath(), $"sandbox-{label}-{Guid.NewGuid():N}");
        _folders.Add(data);
        var environment = new Dictionary<string, string>(settings ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            ["Sandbox__Store__Provider"] = "postgres",
            ["Sandbox__Store__ConnectionString"] = connectionString,
            ["Sandbox__Guard__NodeId"] = nodeId,
        };
        var node = ServeProcess.Start(data, adminKey, environment: environment);
        Processes.Add(node);
        return node;
    }

    public void Dispose()
    {
        foreach (var node in Processes)
        {
            node.Dispose();
        }

        foreach (var folder in _folders.Where(Directory.Exists))
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
