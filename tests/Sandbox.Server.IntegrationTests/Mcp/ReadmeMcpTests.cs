using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Mcp;

/// <summary>
/// The README's MCP section, step by step, as a new user follows it: <c>make build</c> (the README's set-up), the
/// <c>sandbox agents create …</c> command it shows, run as written from an unrelated folder, then the client configuration
/// it shows, started by an MCP host (the official TypeScript SDK, eng/npm/tests/readme-mcp.test.ts) with nothing else in
/// the environment. Both are read from README.md itself, so the test follows the README as it is; only the two
/// placeholders (<c>/path/to/</c> and the data folder) become real paths. The README once created the agent in one folder
/// and configured another, which failed with "no agent 'my-agent' in the store" (issue 12).
/// </summary>
[Trait("Category", "Integration")]
public sealed partial class ReadmeMcpTests
{
    private const string PathPlaceholder = "/path/to/";

    private static readonly string[] s_userVariables = ["SANDBOX_DATA", "SANDBOX_PROFILES", "SANDBOX_AGENT", "SANDBOX_API_KEY"];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReadmeMcpSection_FollowedLiterally_RunsPython()
    {
        var (createCommand, clientConfig) = ReadMcpSection();
        var server = clientConfig["mcpServers"]!["sandbox"]!;
        var readmeData = (string)server["env"]!["SANDBOX_DATA"]!;
        var dataOption = DataOption().Match(createCommand);
        dataOption.Success.ShouldBeTrue($"the README's agent command names no --data folder: {createCommand}");
        dataOption.Groups[1].Value.ShouldBe(readmeData, $"the README creates the agent in one folder and configures the client with another: {createCommand}");
        var command = (string)server["command"]!;
        command.ShouldStartWith(PathPlaceholder);
        command.ShouldEndWith("artifacts/sandbox/sandbox", customMessage: "the README's client runs the CLI `make build` publishes");

        var home = Directory.CreateTempSubdirectory("sandbox-readme-mcp-");
        try
        {
            // Set up, as the README says: `make build` publishes the CLI with its profiles beside it (seconds when up to date).
            var build = await ChildProcess.RunAsync("make", ["--no-print-directory", "build"], RepositoryRoot.Path, timeout: TimeSpan.FromMinutes(8));
            build.Exit.ShouldBe(0, build.ToString());
            var sandbox = Path.Join(RepositoryRoot.Path, command[PathPlaceholder.Length..]);
            File.Exists(sandbox).ShouldBeTrue(sandbox);
            var data = Path.Join(home.FullName, "var-lib-sandbox");

            // Step 1: the agent, with the README's command as written (its data folder made real), from a folder of the user's.
            var words = createCommand.Replace(readmeData, data, StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            words[0].ShouldBe("sandbox");
            var clean = s_userVariables.ToDictionary(v => v, _ => "");
            var created = await ChildProcess.RunAsync(sandbox, words[1..], home.FullName, clean);
            created.Exit.ShouldBe(0, created.ToString());
            created.Stdout.ShouldContain("sbxa_", Case.Sensitive, "the key is printed once");

            // Step 2: the client configuration as shown, and the README's alternative to SANDBOX_DATA (`--data DIR`).
            var literal = JsonNode.Parse(server.ToJsonString().Replace(PathPlaceholder, RepositoryRoot.Path + "/", StringComparison.Ordinal).Replace(readmeData, data, StringComparison.Ordinal))!;
            var withDataOption = literal.DeepClone();
            withDataOption["args"]!.AsArray().Add("--data");
            withDataOption["args"]!.AsArray().Add(data);
            withDataOption.AsObject().Remove("env");
            var config = Path.Join(home.FullName, "mcp.json");
            await File.WriteAllTextAsync(config, new JsonObject { ["mcpServers"] = new JsonObject { ["sandbox"] = literal, ["sandbox-with-data-option"] = withDataOption } }.ToJsonString(), Token);

            await NpmClients.RunAsync(NpmClients.Bin("tsc"), ["-p", Path.Join(NpmClients.Folder, "tsconfig.readme.json")]);
            await NpmClients.RunAsync("node", ["--test", Path.Join(NpmClients.Folder, "out", "tests", "readme-mcp.test.js")], new Dictionary<string, string>(clean) { ["SANDBOX_MCP_CONFIG"] = config }, TimeSpan.FromMinutes(4));

            // "logs go to stderr and to logs/ in the data folder": not into the folder the host started it in.
            Directory.EnumerateFiles(Path.Join(data, "logs"), "sandbox-*.log").ShouldNotBeEmpty();
            Directory.EnumerateFileSystemEntries(home.FullName).Select(Path.GetFileName).Order(StringComparer.Ordinal).ShouldBe(["mcp.json", "var-lib-sandbox"]);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    /// <summary>The MCP paragraph of README.md: the first <c>sandbox agents create</c> command in it, and its JSON client configuration.</summary>
    private static (string CreateCommand, JsonNode ClientConfig) ReadMcpSection()
    {
        var readme = File.ReadAllText(Path.Join(RepositoryRoot.Path, "README.md"));
        var start = readme.IndexOf("**MCP.**", StringComparison.Ordinal);
        start.ShouldBeGreaterThanOrEqualTo(0, "README.md has no **MCP.** section");
        var section = readme[start..];
        var create = AgentsCreate().Match(section);
        create.Success.ShouldBeTrue("the README's MCP section shows no `sandbox agents create` command");
        var json = JsonBlock().Match(section);
        json.Success.ShouldBeTrue("the README's MCP section shows no ```json client configuration");
        json.Index.ShouldBeGreaterThan(create.Index, "the agent is created before the client is configured");
        return (create.Groups[1].Value, JsonNode.Parse(json.Groups[1].Value)!);
    }

    [GeneratedRegex(@"`(sandbox agents create [^`]+)`")]
    private static partial Regex AgentsCreate();

    [GeneratedRegex(@"```json\n(.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();

    [GeneratedRegex(@"--data (\S+)")]
    private static partial Regex DataOption();
}
