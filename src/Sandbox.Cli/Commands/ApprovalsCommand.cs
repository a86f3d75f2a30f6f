using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Sandbox.Cli.Hosting;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Policy;
using static Sandbox.Cli.Commands.GuardCommandSupport;

namespace Sandbox.Cli.Commands;

/// <summary>
/// <c>sandbox approvals list | show | approve | deny</c>: runs waiting for a human. Decisions go through
/// <see cref="AgentAdmin.DecideAsync"/>, which records who decided and when in the audit log.
/// </summary>
internal static class ApprovalsCommand
{
    /// <summary>How much of the code's SHA-256 the list shows: enough to tell runs apart at a glance.</summary>
    private const int ShaPrefixLength = 12;

    public static Command Create()
    {
        var data = DataOption();
        var by = ByOption();
        return new Command("approvals", "Review, approve and deny runs that wait for a human.")
        {
            data, by,
            ListCommand(data),
            ShowCommand(data),
            DecideCommand(data, by, approve: true),
            DecideCommand(data, by, approve: false),
        };
    }

    private static Command ListCommand(Option<string?> data)
    {
        var all = new Option<bool>("--all") { Description = "Every approval, decided or not (default: pending only)." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text." };
        var command = new Command("list", "List the approvals waiting for a decision, newest first.") { all, json };
        command.SetAction((parse, cancellationToken) => WithStoreAsync(parse.GetValue(data), async store =>
        {
            var approvals = await store.ListApprovalsAsync(parse.GetValue(all) ? null : ApprovalState.Pending, cancellationToken);
            if (parse.GetValue(json))
            {
                await WriteJsonAsync(new JsonArray(approvals.Select(a => (JsonNode?)ApprovalJson(a, withCode: false)).ToArray()));
                return AdminExitCodes.Ok;
            }

            if (approvals.Count == 0)
            {
                await Console.Out.WriteLineAsync(parse.GetValue(all) ? "no approvals" : "no approvals pending");
                return AdminExitCodes.Ok;
            }

            await Console.Out.WriteLineAsync($"{"ID",-20} {"STATE",-8} {"AGENT",-20} {"PROFILE",-18} {"LANGUAGE",-10} {"CREATED",-20}  {"EXPIRES",-20}  {"CODE SHA256",-12}  REASON | PURPOSE");
            foreach (var a in approvals)
            {
                await Console.Out.WriteLineAsync(
                    $"{a.Id,-20} {ApprovalStates.Name(a.State),-8} {a.AgentName,-20} {a.Profile,-18} {TerminalText.Preview(a.Language, 10),-10} {Human(a.CreatedAt),-20}  {Human(a.ExpiresAt),-20}  {ShaPrefix(a.CodeSha256),-12}  " +
                    $"{TerminalText.Preview(a.Reason, 50)} | {TerminalText.Preview(a.Purpose, 60)}");
            }

            return AdminExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static Command ShowCommand(Option<string?> data)
    {
        var id = ApprovalArgument();
        var json = new Option<bool>("--json") { Description = "Print JSON (with the code) instead of text." };
        var command = new Command("show", "Show an approval with the code it would run, so you see what you approve.") { id, json };
        command.SetAction((parse, cancellationToken) => WithStoreAsync(parse.GetValue(data), async store =>
        {
            if (await store.FindApprovalAsync(parse.GetValue(id)!, cancellationToken) is not { } approval)
            {
                await Error($"no approval '{parse.GetValue(id)}'; `sandbox approvals list --all` shows them");
                return AdminExitCodes.Failed;
            }

            if (parse.GetValue(json))
            {
                await WriteJsonAsync(ApprovalJson(approval, withCode: true));
            }
            else
            {
                await WriteDetailAsync(approval);
            }

            return AdminExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary><c>approve</c> and <c>deny</c>.</summary>
    private static Command DecideCommand(Option<string?> data, Option<string?> by, bool approve)
    {
        var id = ApprovalArgument();
        var note = new Option<string?>("--note") { Description = "Why, kept with the decision and in the audit log." };
        var command = approve
            ? new Command("approve", "Let a pending run go ahead (read it first with `sandbox approvals show`).") { id, note }
            : new Command("deny", "Refuse a pending run.") { id, note };
        command.SetAction((parse, cancellationToken) => WithStoreAsync(parse.GetValue(data), async store =>
        {
            var actor = Actor(parse.GetValue(by));
            var result = await new AgentAdmin(store, TimeProvider.System).DecideAsync(parse.GetValue(id)!, approve, actor, parse.GetValue(note), cancellationToken);
            if (!result.Ok)
            {
                return await FailAsync(result);
            }

            var decided = result.Value!;
            await Console.Out.WriteLineAsync($"{ApprovalStates.Name(decided.State)} {decided.Id} (run {decided.RunId} of agent {decided.AgentName}) by {actor}");
            return AdminExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static async Task WriteDetailAsync(Approval a)
    {
        var output = Console.Out;
        await output.WriteLineAsync($"approval {a.Id}: {ApprovalStates.Name(a.State)}");
        await output.WriteLineAsync($"  run:      {a.RunId}");
        await output.WriteLineAsync($"  agent:    {a.AgentName} ({a.AgentId})");
        await output.WriteLineAsync($"  profile:  {a.Profile}");
        await output.WriteLineAsync($"  language: {TerminalText.Safe(a.Language)}");
        await output.WriteLineAsync($"  purpose:  {TerminalText.Safe(a.Purpose)}");
        await output.WriteLineAsync($"  reason:   {TerminalText.Safe(a.Reason)}");
        await output.WriteLineAsync($"  created:  {Human(a.CreatedAt)}");
        await output.WriteLineAsync($"  expires:  {Human(a.ExpiresAt)}");
        if (a.State != ApprovalState.Pending)
        {
            await output.WriteLineAsync($"  decided:  {Human(a.DecidedAt)} by {TerminalText.Safe(a.DecidedBy)}{(a.Note is { } n ? ": " + TerminalText.Safe(n) : "")}");
        }

        // The hash is what the run and the audit log refer to; a code that does not hash to it is not what would run.
        var actual = AuditRecords.Sha256(a.Code);
        var matches = string.Equals(actual, a.CodeSha256, StringComparison.OrdinalIgnoreCase);
        await WriteBindingAsync(output, a);
        await output.WriteLineAsync($"  sha256:   {a.CodeSha256} ({(matches ? "matches the code below" : $"DOES NOT MATCH the code below, which hashes to {actual}: do not approve")})");
        // Code, files and stdin are the requester's text: a file holding "----- end of file -----" could end its own
        // section early and pass what follows for ours. Each section line carries a marker drawn here and found in none of it.
        var code = TerminalText.Safe(a.Code, multiline: true);
        var fence = NewFence([code, .. a.Files.SelectMany(f => new[] { TerminalText.Safe(f.Path), TerminalText.Safe(f.Content, multiline: true) }), TerminalText.Safe(a.Stdin ?? "", multiline: true)]);
        await output.WriteLineAsync($"  fence:    [{fence}] (a section below ends only at its line with this marker; any other such line is the requester's text)");
        await output.WriteLineAsync();
        await output.WriteLineAsync($"----- code ({Encoding.UTF8.GetByteCount(a.Code)} bytes; control characters shown as \\u{{XXXX}}) [{fence}] -----");
        await output.WriteAsync(code);
        if (!code.EndsWith('\n'))
        {
            await output.WriteLineAsync();
        }

        await output.WriteLineAsync($"----- end of code [{fence}] -----");

        // Files and stdin run as much as the code does (`import helper` runs helper.py): shown in full, the same way.
        foreach (var file in a.Files)
        {
            var fileSha = AuditRecords.Sha256(file.Content);
            var fileMatches = string.Equals(fileSha, file.Sha256, StringComparison.OrdinalIgnoreCase);
            await output.WriteLineAsync();
            await output.WriteLineAsync($"----- file {TerminalText.Safe(file.Path)} ({file.Bytes} bytes, sha256 {file.Sha256}{(fileMatches ? "" : $", DOES NOT MATCH its content, which hashes to {fileSha}: do not approve")}) [{fence}] -----");
            await WriteBlockAsync(output, file.Content);
            await output.WriteLineAsync($"----- end of file [{fence}] -----");
        }

        if (a.Stdin is { } stdin)
        {
            await output.WriteLineAsync();
            await output.WriteLineAsync($"----- stdin ({Encoding.UTF8.GetByteCount(stdin)} bytes, sha256 {AuditRecords.Sha256(stdin)}) [{fence}] -----");
            await WriteBlockAsync(output, stdin);
            await output.WriteLineAsync($"----- end of stdin [{fence}] -----");
        }
    }

    /// <summary>The run as a whole: files and stdin, backend, runtime, limits, and whether it all still hashes to what approving binds.</summary>
    private static async Task WriteBindingAsync(TextWriter output, Approval a)
    {
        await output.WriteLineAsync($"  files:    {(a.Files.Count == 0 ? "none" : string.Join(", ", a.Files.Select(f => $"{TerminalText.Safe(f.Path)} ({f.Bytes} bytes)")))}");
        await output.WriteLineAsync($"  stdin:    {(a.Stdin is { } stdin ? $"{Encoding.UTF8.GetByteCount(stdin)} bytes (below)" : "none")}");
        await output.WriteLineAsync($"  backend:  {a.Backend ?? "?"}, runtime {a.Runtime ?? "?"}");
        await output.WriteLineAsync($"  limits:   {(a.Limits is { } limits ? string.Join(", ", limits.Enumerate().Select(l => $"{l.Name}={l.Value}")) : "?")}");
        var digest = ApprovalDigest.Of(a);
        var state = a.RequestSha256 is null || digest is null
            ? "none: this approval predates approvals that bind the whole request, and approving it will not run it"
            : digest == a.RequestSha256
                ? $"{a.RequestSha256} (code, files, stdin, profile, runtime and limits below match it; any change after approval refuses the run)"
                : $"{a.RequestSha256} DOES NOT MATCH what is shown, which hashes to {digest}: do not approve";
        await output.WriteLineAsync($"  binds:    {state}");
    }

    /// <summary>
    /// A marker for this show's section lines: random (72 bits from a CSPRNG, drawn when shown, so the requester cannot
    /// know it) and found in none of the shown texts, so no line of theirs can pass for one of ours.
    /// <paramref name="candidate"/> replaces the random draw in tests.
    /// </summary>
    internal static string NewFence(IReadOnlyList<string> shown, Func<string>? candidate = null)
    {
        candidate ??= static () => RandomNumberGenerator.GetString(FenceAlphabet, FenceLength);
        while (true)
        {
            var fence = candidate();
            if (!shown.Any(text => text.Contains(fence, StringComparison.Ordinal)))
            {
                return fence;
            }
        }
    }

    private const string FenceAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const int FenceLength = 14;

    private static async Task WriteBlockAsync(TextWriter output, string text)
    {
        var safe = TerminalText.Safe(text, multiline: true);
        await output.WriteAsync(safe);
        if (!safe.EndsWith('\n'))
        {
            await output.WriteLineAsync();
        }
    }

    private static JsonObject ApprovalJson(Approval a, bool withCode)
    {
        var node = new JsonObject
        {
            ["id"] = a.Id,
            ["state"] = ApprovalStates.Name(a.State),
            ["runId"] = a.RunId,
            ["agentId"] = a.AgentId,
            ["agentName"] = a.AgentName,
            ["profile"] = a.Profile,
            ["language"] = a.Language,
            ["codeSha256"] = a.CodeSha256,
            ["purpose"] = a.Purpose,
            ["reason"] = a.Reason,
            ["createdAt"] = Json(a.CreatedAt),
            ["expiresAt"] = Json(a.ExpiresAt),
            ["decidedBy"] = a.DecidedBy,
            ["decidedAt"] = Json(a.DecidedAt),
            ["note"] = a.Note,
        };
        node["requestSha256"] = a.RequestSha256;
        node["backend"] = a.Backend;
        node["runtime"] = a.Runtime;
        if (withCode)
        {
            node["code"] = a.Code;
            node["stdin"] = a.Stdin;
            node["files"] = new JsonArray(a.Files.Select(f => (JsonNode?)new JsonObject { ["path"] = f.Path, ["bytes"] = f.Bytes, ["sha256"] = f.Sha256, ["content"] = f.Content }).ToArray());
            if (a.Limits is { } limits)
            {
                var o = new JsonObject();
                foreach (var (name, value) in limits.Enumerate())
                {
                    o[name] = value;
                }

                node["limits"] = o;
            }
        }

        return node;
    }

    private static string ShaPrefix(string sha) => sha.Length > ShaPrefixLength ? sha[..ShaPrefixLength] : sha;

    private static Argument<string> ApprovalArgument() => new("id") { Description = "The approval's id (apr_…)." };
}
