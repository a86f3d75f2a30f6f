using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sandbox.Cli.Hosting;
using Sandbox.Guard.Audit;
using Sandbox.Guard.Store;
using static Sandbox.Cli.Commands.GuardCommandSupport;

namespace Sandbox.Cli.Commands;

/// <summary><c>sandbox audit verify | show</c>: check the hash chain, and read or export its records.</summary>
internal static class AuditCommand
{
    public const int DefaultLimit = 100;
    private const int MaxLimit = 1_000_000;
    private const int SummaryLength = 100;

    private static readonly IReadOnlyList<string> s_kinds = AuditKinds.All;

    public static Command Create()
    {
        var data = DataOption();
        return new Command("audit", "Verify the audit log's hash chain, and read or export its records.")
        {
            data,
            VerifyCommand(data),
            ShowCommand(data),
        };
    }

    private static Command VerifyCommand(Option<string?> data)
    {
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var anchors = new Option<AuditAnchor[]>("--anchor")
        {
            Description = "A head printed by an earlier verify (SEQ:HASH) and kept elsewhere; that record must still be there with that hash. Repeat for several. Detects records cut off the end and a rewritten log, which the chain alone cannot.",
            CustomParser = result =>
            {
                var parsed = new List<AuditAnchor>();
                foreach (var token in result.Tokens)
                {
                    if (AuditAnchor.TryParse(token.Value, out var anchor, out var error))
                    {
                        parsed.Add(anchor!);
                    }
                    else
                    {
                        result.AddError($"--anchor: {error}");
                    }
                }

                return [.. parsed];
            },
        };
        var command = new Command("verify", "Walk the whole chain; exit 0 when intact, 1 at the first changed, missing or reordered record (or an anchor not matched).") { json, anchors };
        command.SetAction((parse, cancellationToken) => WithStoreAsync(parse.GetValue(data), async store =>
        {
            var given = parse.GetValue(anchors) ?? [];
            var verification = await store.VerifyAuditAsync(given, cancellationToken);
            if (parse.GetValue(json))
            {
                await WriteJsonAsync(new JsonObject
                {
                    ["intact"] = verification.Intact,
                    ["recordsChecked"] = verification.RecordsChecked,
                    ["headHash"] = verification.HeadHash,
                    ["head"] = verification.Head?.ToString(),
                    ["anchorsChecked"] = given.Length,
                    ["firstBrokenSequence"] = verification.FirstBrokenSequence,
                    ["problem"] = verification.Problem,
                });
            }
            else if (verification.Intact)
            {
                await Console.Out.WriteLineAsync($"audit chain intact: {verification.RecordsChecked} records, head {verification.Head}");
                await Console.Out.WriteLineAsync(given.Length > 0
                    ? $"{given.Length} anchor(s) matched."
                    : "Keep the head somewhere this host cannot change; `sandbox audit verify --anchor <head>` later also detects records cut off the end.");
            }
            else
            {
                await Console.Out.WriteLineAsync($"audit chain BROKEN at record {verification.FirstBrokenSequence}: {verification.Problem}");
                await Console.Out.WriteLineAsync($"{verification.RecordsChecked} records before it verified; nothing from record {verification.FirstBrokenSequence} on can be trusted.");
            }

            return verification.Intact ? AdminExitCodes.Ok : AdminExitCodes.Failed;
        }, cancellationToken));
        return command;
    }

    private static Command ShowCommand(Option<string?> data)
    {
        var agent = new Option<string?>("--agent") { Description = "Only this agent's records (its name or id)." };
        var run = new Option<string?>("--run") { Description = "Only this run's records." };
        var kind = new Option<string?>("--kind") { Description = $"Only records of this kind: {string.Join(", ", s_kinds)}." };
        kind.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } k && !s_kinds.Contains(k, StringComparer.Ordinal))
            {
                result.AddError($"--kind must be one of {string.Join(", ", s_kinds)} (got '{k}')");
            }
        });
        var status = new Option<string?>("--status") { Description = "Only records with this status (allowed, rejected, ok, agent_created, …)." };
        var since = TimeArguments.TimeBoundOption("--since", "Only records at or after this time: ISO 8601, or a span ago such as 30m, 2h, 7d.");
        var until = TimeArguments.TimeBoundOption("--until", "Only records before this time: ISO 8601, or a span ago such as 30m, 2h, 7d.");
        var after = new Option<long>("--after") { Description = "Only records after this sequence number (to page on)." };
        after.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<long>() < 0)
            {
                result.AddError("--after must be a sequence number, 0 or more");
            }
        });
        var limit = new Option<int>("--limit") { Description = "At most this many records.", DefaultValueFactory = _ => DefaultLimit };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > MaxLimit)
            {
                result.AddError($"--limit must be 1 to {MaxLimit}");
            }
        });
        var jsonl = new Option<bool>("--jsonl") { Description = "One JSON object per line with every field (data parsed, hashes included): an export format." };

        var command = new Command("show", "Print audit records in sequence order, filtered.") { agent, run, kind, status, since, until, after, limit, jsonl };
        command.SetAction((parse, cancellationToken) => WithStoreAsync(parse.GetValue(data), async store =>
        {
            string? agentId = null;
            if (parse.GetValue(agent) is { } wanted)
            {
                if (await store.FindAgentAsync(wanted, cancellationToken) is not { } found)
                {
                    await Error($"no agent '{wanted}'; `sandbox agents list` shows them");
                    return AdminExitCodes.Failed;
                }

                agentId = found.Id;
            }

            var query = new AuditQuery
            {
                AgentId = agentId,
                RunId = parse.GetValue(run),
                Kind = parse.GetValue(kind),
                Status = parse.GetValue(status),
                From = parse.GetValue(since)?.Resolve(TimeProvider.System),
                To = parse.GetValue(until)?.Resolve(TimeProvider.System),
                AfterSequence = parse.GetValue(after),
                Limit = parse.GetValue(limit),
            };
            // One page of the store at a time, written before the next is read: an export of the whole log
            // (--limit up to a million) holds one page in memory, never the log.
            var isJsonl = parse.GetValue(jsonl);
            IReadOnlyDictionary<string, string>? names = null;
            long written = 0;
            var lastSequence = query.AfterSequence;
            while (written < query.Limit)
            {
                var page = await store.QueryAuditAsync(query with { AfterSequence = lastSequence, Limit = (int)Math.Min(AuditQuery.MaxPageSize, query.Limit - written) }, cancellationToken);
                if (page.Count == 0)
                {
                    break;
                }

                if (isJsonl)
                {
                    foreach (var record in page)
                    {
                        await WriteJsonLineAsync(RecordJson(record));
                    }
                }
                else
                {
                    names ??= await WriteHeaderAsync(store, cancellationToken);
                    await WriteLinesAsync(names, page);
                }

                written += page.Count;
                lastSequence = page[^1].Sequence;
            }

            if (written == 0 && !isJsonl)
            {
                await Console.Out.WriteLineAsync("no matching audit records");
            }

            if (written == query.Limit)
            {
                await Console.Error.WriteLineAsync($"sandbox: stopped at --limit {query.Limit}; continue with --after {lastSequence}");
            }

            return AdminExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static async Task<IReadOnlyDictionary<string, string>> WriteHeaderAsync(IGuardStore store, CancellationToken cancellationToken)
    {
        // Agent names read better than ids; an id with no agent (never, unless the store was edited) stays an id.
        var names = (await store.ListAgentsAsync(cancellationToken)).ToDictionary(a => a.Id, a => a.Name, StringComparer.Ordinal);
        await Console.Out.WriteLineAsync($"{"SEQ",6} {"TIME (UTC)",-20}  {"KIND",-8} {"STATUS",-22} {"AGENT",-20} {"RUN",-22} DATA");
        return names;
    }

    private static async Task WriteLinesAsync(IReadOnlyDictionary<string, string> names, IReadOnlyList<AuditRecord> records)
    {
        foreach (var r in records)
        {
            var who = r.AgentId is null ? "-" : names.GetValueOrDefault(r.AgentId, r.AgentId);
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{r.Sequence,6} {Human(r.Time),-20}  {r.Kind,-8} {TerminalText.Safe(r.Status ?? "-"),-22} {who,-20} {TerminalText.Safe(r.RunId ?? "-"),-22} {Summary(r.Data)}"));
        }
    }

    /// <summary>The data's top-level fields as <c>key=value</c>, long values and nested ones shortened, cut to one line.</summary>
    private static string Summary(string data)
    {
        JsonObject? fields;
        try
        {
            fields = JsonNode.Parse(data) as JsonObject;
        }
        catch (JsonException)
        {
            fields = null;
        }

        if (fields is null)
        {
            return TerminalText.Preview(data, SummaryLength);
        }

        var summary = new StringBuilder();
        foreach (var (key, value) in fields)
        {
            if (value is null)
            {
                continue;
            }

            var text = value switch
            {
                JsonObject => "{…}",
                JsonArray array => array.Count <= 3 && array.All(v => v is JsonValue) ? string.Join(",", array.Select(v => v!.ToString())) : $"[{array.Count}]",
                _ => value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString(),
            };
            summary.Append(summary.Length == 0 ? "" : " ").Append(key).Append('=').Append(text.Length > 40 ? text[..39] + "…" : text);
        }

        return TerminalText.Preview(summary.ToString(), SummaryLength);
    }

    /// <summary>Every field of a record; <c>data</c> parsed back to JSON (kept as a string only if it is not JSON, which verify would flag).</summary>
    private static JsonObject RecordJson(AuditRecord record)
    {
        JsonNode? data;
        try
        {
            data = JsonNode.Parse(record.Data);
        }
        catch (JsonException)
        {
            data = record.Data;
        }

        return new JsonObject
        {
            ["seq"] = record.Sequence,
            ["time"] = AuditChain.FormatTime(record.Time),
            ["kind"] = record.Kind,
            ["agentId"] = record.AgentId,
            ["runId"] = record.RunId,
            ["status"] = record.Status,
            ["data"] = data,
            ["prevHash"] = record.PreviousHash,
            ["hash"] = record.Hash,
        };
    }
}
