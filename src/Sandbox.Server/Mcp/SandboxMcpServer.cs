using System.Reflection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Sandbox.Server.Mcp;

/// <summary>
/// The MCP server of <c>sandbox mcp</c>: the SDK's low-level server with our own tools/list and tools/call
/// handlers (the tools' schemas and descriptions depend on the profiles, so they are built per request rather
/// than from attributes). It runs until the client closes stdin.
/// </summary>
internal static class SandboxMcpServer
{
    public const string Name = "sandbox";

    private const string Instructions =
        "Sandbox runs code in fresh, isolated sandboxes with hard limits and no network. Use run_code to execute a " +
        "program and see its exact output, exit code and resource use; list_languages shows what can run and the limits.";

    public static McpServerOptions CreateOptions(SandboxMcpTools tools) => new()
    {
        ServerInfo = new Implementation { Name = Name, Title = "Sandbox", Version = Version },
        ServerInstructions = Instructions,
        Capabilities = new ServerCapabilities { Tools = new ToolsCapability() },
        Handlers = new McpServerHandlers
        {
            ListToolsHandler = (_, cancellationToken) => tools.ListToolsAsync(cancellationToken),
            CallToolHandler = (context, cancellationToken) =>
                tools.CallAsync(context.Params?.Name ?? "", context.Params?.Arguments, cancellationToken),
        },
    };

    /// <summary>Serves MCP over this process's stdin and stdout until the client disconnects or <paramref name="cancellationToken"/> fires.</summary>
    public static async Task RunStdioAsync(SandboxMcpTools tools, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var options = CreateOptions(tools);
        // The SDK's stdio transport behind our gate, which refuses bad run_code arguments by field before the SDK binds them.
        await using var transport = new GatedStdioTransport(Console.OpenStandardInput(), Console.OpenStandardOutput(), tools, loggers);
        await RunAsync(transport, options, loggers, cancellationToken);
    }

    /// <summary>Serves MCP over a pair of streams (tests use pipes).</summary>
    public static async Task RunStreamsAsync(SandboxMcpTools tools, Stream input, Stream output, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var options = CreateOptions(tools);
        await using var transport = new StreamServerTransport(input, output, Name, loggers);
        await RunAsync(transport, options, loggers, cancellationToken);
    }

    private static async Task RunAsync(ITransport transport, McpServerOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        await using var server = McpServer.Create(transport, options, loggers);
        await server.RunAsync(cancellationToken);
    }

    private static string Version { get; } =
        typeof(SandboxMcpServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion is { } version
            ? version.Split('+')[0]
            : "0.0.0";
}
