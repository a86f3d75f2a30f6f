using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Npgsql;
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

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Every node started, in order.</summary>
    public List<ServeProcess> Processes { get; } = [];

    /// <summary>Makes an agent on the shared database and returns its key.</summary>
    public static async Task<string> CreateAgentAsync(string connectionString, AgentSpec spec, CancellationToken cancellationToken)
    {
        await using var store = await PostgresGuardStore.OpenAsync(connectionString, TimeProvider.System, cancellationToken);
        var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(spec, "test", cancellationToken);
        return created.Value.ShouldNotBeNull(created.Message).Key;
    }

    /// <summary>A run as <paramref name="node"/> answers <c>GET /v1/runs/{id}</c> for <paramref name="key"/>'s agent; a non-2xx answer fails.</summary>
    public static async Task<JsonNode> GetRunAsync(ServeProcess node, string key, string id)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{id}");
        get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await node.Http.SendAsync(get, Token);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Token))!;
        response.IsSuccessStatusCode.ShouldBeTrue(body.ToJsonString());
        return body;
    }

    /// <summary>One number read from the shared database (a count, mostly).</summary>
    public static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Token);
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Token), CultureInfo.InvariantCulture);
    }

    /// <summary>Reads <paramref name="countSql"/> every 100 ms until it gives <paramref name="expected"/>; fails after 60 s.</summary>
    public static async Task WaitForAsync(string connectionString, string countSql, long expected)
    {
        var waited = Stopwatch.StartNew();
        long seen;
        while ((seen = await ScalarAsync(connectionString, countSql)) != expected)
        {
            waited.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), $"waiting for {expected} from: {countSql} (saw {seen})");
            await Task.Delay(100, Token);
        }
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
