using Npgsql;
using Sandbox.Core.Runs;

namespace Sandbox.Guard.Store;

/// <summary>
/// Which database the guard keeps its state in (<c>Sandbox:Store</c>): the embedded SQLite file under the data folder by
/// default, or a PostgreSQL database shared by several nodes (<c>Provider=postgres</c> and a <c>ConnectionString</c>).
/// </summary>
public sealed class StoreOptions
{
    public const string Section = "Sandbox:Store";

    public const string Sqlite = "sqlite";

    public const string Postgres = "postgres";

    /// <summary><c>sqlite</c> (default) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = Sqlite;

    /// <summary>
    /// For <c>postgres</c> only: an Npgsql connection string (<c>Host=…;Port=5432;Database=sandbox;Username=…;Password=…</c>).
    /// It carries a password: set it from the environment (<c>Sandbox__Store__ConnectionString</c>) or a secret file, never
    /// in a checked-in settings file. It is never logged.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// For <c>postgres</c> only: how long a node's lease lasts unrenewed (it renews every second). A node silent this long is
    /// taken over by a survivor: its running runs closed as interrupted, its queued runs run elsewhere. Shorter finds a dead
    /// node sooner; too short takes over a node that only paused (its late results are then refused, never doubled).
    /// </summary>
    public TimeSpan NodeLease { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether the PostgreSQL store is chosen.</summary>
    public bool IsPostgres => string.Equals(Provider, Postgres, StringComparison.Ordinal);

    /// <summary>Every problem with the settings, each naming its key and the fix; empty when they are usable.</summary>
    public IReadOnlyList<FieldError> Validate()
    {
        var errors = new List<FieldError>();
        if (Provider is not (Sqlite or Postgres))
        {
            errors.Add(new FieldError($"{Section}:{nameof(Provider)}", $"is '{Provider}'; use sqlite (the default, a file under Sandbox:DataDirectory) or postgres (with Sandbox:Store:ConnectionString)"));
            return errors;
        }

        var key = $"{Section}:{nameof(ConnectionString)}";
        if (!IsPostgres)
        {
            // Fails closed: a connection string next to the default provider means the operator meant a shared store, and
            // silently using a local file instead would split the agents' caps and audit between nodes.
            if (!string.IsNullOrWhiteSpace(ConnectionString))
            {
                errors.Add(new FieldError(key, "is set but Sandbox:Store:Provider is sqlite; set Sandbox:Store:Provider=postgres to use it, or remove it"));
            }

            return errors;
        }

        if (NodeLease < TimeSpan.FromSeconds(2) || NodeLease > TimeSpan.FromMinutes(5))
        {
            // At least two renewals fit in a lease, so one slow round trip does not cost a live node its runs.
            errors.Add(new FieldError($"{Section}:{nameof(NodeLease)}", $"is {NodeLease}; use 00:00:02 to 00:05:00 (the default is 00:00:05)"));
        }

        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            errors.Add(new FieldError(key, "is missing; Sandbox:Store:Provider=postgres needs one, such as Host=127.0.0.1;Port=5432;Database=sandbox;Username=sandbox;Password=… (set it as Sandbox__Store__ConnectionString)"));
            return errors;
        }

        try
        {
            var parsed = new NpgsqlConnectionStringBuilder(ConnectionString);
            if (string.IsNullOrWhiteSpace(parsed.Host))
            {
                errors.Add(new FieldError(key, "names no Host; add Host=the PostgreSQL server (or the folder of its Unix socket)"));
            }

            if (string.IsNullOrWhiteSpace(parsed.Database))
            {
                errors.Add(new FieldError(key, "names no Database; add Database=the database the store creates its tables in"));
            }
        }
        catch (ArgumentException ex)
        {
            // The parser's message names the offending keyword, never the value: the string may hold a password.
            errors.Add(new FieldError(key, $"cannot be read as an Npgsql connection string ({ex.Message}); use Keyword=value pairs separated by ';'"));
        }

        return errors;
    }
}
