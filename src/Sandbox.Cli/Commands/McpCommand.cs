using System.CommandLine;
using Sandbox.Server.Mcp;

namespace Sandbox.Cli.Commands;

/// <summary>
/// <c>sandbox mcp [--url URL] [--profiles PATH]</c>: the MCP server on stdio, with the local backends or in
/// front of a remote Sandbox service (key from <c>SANDBOX_API_KEY</c>). stdout carries JSON-RPC only, so this
/// command writes nothing there itself: errors and logs go to stderr.
/// </summary>
internal static class McpCommand
{
    public static Command Create(Option<string?> profilesOption)
    {
        var url = new Option<Uri?>("--url")
        {
            Description = $"A remote Sandbox service, such as http://127.0.0.1:8080, instead of the local backends. Its API key comes from ${RemoteRunGateway.ApiKeyVariable}.",
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
                {
                    return uri;
                }

                result.AddError($"--url must be an absolute http or https URL such as http://127.0.0.1:8080 (got '{text}')");
                return null;
            },
        };

        var agent = new Option<string?>("--agent")
        {
            Description = "With the local backends: the agent (name or id) the runs act as, with its allow-list, caps and audit trail. Default: $SANDBOX_AGENT.",
        };

        var data = new Option<string?>("--data")
        {
            Description = "With the local backends: the guard's data folder holding sandbox.db, as for `sandbox agents`. Default: $SANDBOX_DATA, else ./data.",
        };

        var command = new Command("mcp", "Serve the run_code, list_languages and get_run tools over the Model Context Protocol on stdio.") { url, agent, data };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                return await CommandSupport.RunServerAsync(() =>
                    McpHost.RunAsync(parse.GetValue(url), parse.GetValue(profilesOption), parse.GetValue(agent), parse.GetValue(data), cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C or SIGTERM: the normal way to stop a server that is not stopped by its client.
                return 0;
            }
        });
        return command;
    }
}
