using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;

namespace Sandbox.Guard.Store;

/// <summary>
/// How values are written to and read from the guard database: times as fixed-format UTC text, enums
/// as lowercase names, lists as JSON arrays. Anything unreadable is an exception: a store that cannot
/// say what a credential is must not guess.
/// </summary>
internal static class SqliteValues
{
    // The exact inverse of AuditChain.FormatTime ("yyyy-MM-ddTHH:mm:ss.fffffffZ"), with the literals quoted.
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public static string Time(DateTimeOffset value) => AuditChain.FormatTime(value);

    public static string? Time(DateTimeOffset? value) => value is { } v ? AuditChain.FormatTime(v) : null;

    /// <summary>Parses a stored time back to the same instant, with offset zero.</summary>
    public static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.ParseExact(text, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static string Kind(CredentialKind kind) => kind switch
    {
        CredentialKind.AgentKey => "agent_key",
        CredentialKind.TaskToken => "task_token",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown credential kind"),
    };

    public static CredentialKind ParseKind(string text) => text switch
    {
        "agent_key" => CredentialKind.AgentKey,
        "task_token" => CredentialKind.TaskToken,
        _ => throw new InvalidOperationException($"The guard database holds a credential of unknown kind '{text}'."),
    };

    public static string State(ApprovalState state) => state switch
    {
        ApprovalState.Pending => "pending",
        ApprovalState.Approved => "approved",
        ApprovalState.Denied => "denied",
        ApprovalState.Expired => "expired",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "unknown approval state"),
    };

    public static ApprovalState ParseState(string text) => text switch
    {
        "pending" => ApprovalState.Pending,
        "approved" => ApprovalState.Approved,
        "denied" => ApprovalState.Denied,
        "expired" => ApprovalState.Expired,
        _ => throw new InvalidOperationException($"The guard database holds an approval in unknown state '{text}'."),
    };

    /// <summary>A list of names as a compact JSON array (written by hand: no reflection-based serializer).</summary>
    public static string? List(IReadOnlyList<string>? values)
    {
        if (values is null)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var value in values)
            {
                writer.WriteStringValue(value);
            }

            writer.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static IReadOnlyList<string> ParseList(string json)
    {
        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidOperationException($"The guard database holds a list that is not a JSON array: {json}");
        }

        var values = new List<string>(document.RootElement.GetArrayLength());
        foreach (var element in document.RootElement.EnumerateArray())
        {
            values.Add(element.GetString() ?? throw new InvalidOperationException($"The guard database holds a list with a null entry: {json}"));
        }

        return values;
    }

    public static string? NullableString(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static DateTimeOffset? NullableTime(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : ParseTime(reader.GetString(ordinal));
}
