using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Sandbox.Cli.Hosting;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;

namespace Sandbox.Cli.Commands;

/// <summary>
/// What <c>sandbox agents</c>, <c>approvals</c> and <c>audit</c> share: the <c>--data</c> and <c>--by</c>
/// options, opening the store, who the actor is, turning an <see cref="AdminResult{T}"/> into an exit
/// code, and how times and JSON are printed.
/// </summary>
internal static class GuardCommandSupport
{
    /// <summary>Indented for a person reading <c>--json</c>; the relaxed encoder keeps <c>+</c> and <c>'</c> readable, and JSON stays valid.</summary>
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A <c>--data</c> option for one command group; recursive so it may follow any subcommand.</summary>
    public static Option<string?> DataOption() => new("--data")
    {
        Description = $"The data folder holding the guard's store ({GuardPaths.DatabaseFileName}); default ${GuardPaths.DataDirectoryVariable}, else ./data.",
        HelpName = "dir",
        Recursive = true,
    };

    /// <summary>A <c>--by</c> option: who is recorded in the audit log as having acted.</summary>
    public static Option<string?> ByOption()
    {
        var by = new Option<string?>("--by")
        {
            Description = "Who acts, as recorded in the audit log (default cli:<your user name>).",
            HelpName = "name",
            Recursive = true,
        };
        by.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } name && string.IsNullOrWhiteSpace(name))
            {
                result.AddError("--by must name who acts, such as --by alice");
            }
        });
        return by;
    }

    /// <summary>The actor for the audit log: <c>--by</c> as given, else <c>cli:</c> and the operating-system user.</summary>
    public static string Actor(string? by) => by is { Length: > 0 } ? by.Trim() : "cli:" + Environment.UserName;

    /// <summary>
    /// Opens the store in the data folder, runs <paramref name="action"/> and closes the store. Only a command
    /// that creates agents (<paramref name="createIfMissing"/>) may create the store; for every other command a
    /// missing store is bad configuration (78) naming the file looked for. A store that cannot be opened is bad
    /// configuration too; a store that fails during the action is a failure (1), never with a stack trace.
    /// </summary>
    public static async Task<int> WithStoreAsync(string? dataDirectory, Func<IGuardStore, Task<int>> action, CancellationToken cancellationToken, bool createIfMissing = false)
    {
        // The same Sandbox:Store settings as the service (from the environment: Sandbox__Store__Provider and
        // Sandbox__Store__ConnectionString), so an operator's command reaches the store the nodes share.
        var storeOptions = new ConfigurationBuilder().AddEnvironmentVariables().Build().GetSection(StoreOptions.Section).Get<StoreOptions>() ?? new StoreOptions();
        if (storeOptions.Validate() is { Count: > 0 } errors)
        {
            foreach (var error in errors)
            {
                await Error(error.ToString());
            }

            return AdminExitCodes.BadConfiguration;
        }

        var directory = GuardPaths.ResolveDataDirectory(dataDirectory);
        var path = GuardPaths.Database(directory);
        if (!storeOptions.IsPostgres && !createIfMissing && !File.Exists(path))
        {
            // Opening it would create a new, empty store under a mistyped --data or $SANDBOX_DATA and then answer "no
            // agents", "chain intact: 0 records" as if that were the truth (issue 12): name the file looked for instead.
            await Error($"no store at {path}; pass the folder `sandbox agents create` used as --data (or ${GuardPaths.DataDirectoryVariable})");
            return AdminExitCodes.BadConfiguration;
        }

        IGuardStore store;
        string where;
        try
        {
            store = await GuardStores.OpenAsync(storeOptions, directory, TimeProvider.System, cancellationToken);
            where = store is PostgresGuardStore postgres ? $"postgres {postgres.Describe}" : path;
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException || GuardStores.IsStoreFailure(ex))
        {
            var fix = storeOptions.IsPostgres
                ? "check Sandbox__Store__ConnectionString and that the server is up"
                : $"choose the folder with --data or ${GuardPaths.DataDirectoryVariable}";
            await Error($"cannot open the guard store {(storeOptions.IsPostgres ? "(postgres)" : path)}: {ex.Message} ({fix})");
            return AdminExitCodes.BadConfiguration;
        }

        await using (store)
        {
            try
            {
                return await action(store);
            }
            catch (Exception ex) when (GuardStores.IsStoreFailure(ex))
            {
                await Error($"the guard store {where} failed: {ex.Message}");
                return AdminExitCodes.Failed;
            }
        }
    }

    /// <summary>Writes why an action did not happen (one line per field for bad input) and returns its exit code.</summary>
    public static async Task<int> FailAsync<T>(AdminResult<T> result)
        where T : class
    {
        if (result.Errors is { Count: > 0 } errors)
        {
            foreach (var error in errors)
            {
                await Error(error.ToString());
            }
        }
        else
        {
            await Error(result.Message ?? result.Failure.ToString());
        }

        return AdminExitCodes.For(result.Failure);
    }

    public static Task Error(string message) => Console.Error.WriteLineAsync("sandbox: " + message);

    public static Task WriteJsonAsync(JsonNode node) => Console.Out.WriteLineAsync(node.ToJsonString(s_indented));

    /// <summary>
    /// One JSON value on one line, for line-oriented exports. Default options on purpose: they are the ones
    /// the store wrote audit data with, so a record's data re-serialises to the text its hash covers.
    /// </summary>
    public static Task WriteJsonLineAsync(JsonNode node) => Console.Out.WriteLineAsync(node.ToJsonString());

    /// <summary>Times for people: UTC to the second.</summary>
    public static string Human(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Human(DateTimeOffset? time) => time is { } t ? Human(t) : "-";

    /// <summary>Times in JSON: the store's own fixed format.</summary>
    public static JsonNode? Json(DateTimeOffset? time) => time is { } t ? Guard.Audit.AuditChain.FormatTime(t) : null;

    public static JsonArray JsonList(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
}
