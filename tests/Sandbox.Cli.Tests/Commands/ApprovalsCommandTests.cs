using System.Text.Json;
using Sandbox.Cli.Commands;
using Sandbox.Cli.Hosting;
using Sandbox.Cli.Tests.Support;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Audit;

namespace Sandbox.Cli.Tests.Commands;

[Collection(nameof(ConsoleUsers))]
public sealed class ApprovalsCommandTests : IDisposable
{
    private readonly GuardCli _cli = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task List_ShowsPendingApprovalsOnlyUnlessAll()
    {
        var (id, _) = await _cli.CreateAgentAsync("bot");
        var pending = await _cli.CreateApprovalAsync(id, "bot");
        var decided = await _cli.CreateApprovalAsync(id, "bot");
        (await _cli.RunAsync("approvals", "deny", decided.Id)).Code.ShouldBe(0);

        var list = await _cli.RunAsync("approvals", "list");
        var all = await _cli.RunAsync("approvals", "list", "--all", "--json");

        list.Code.ShouldBe(0, list.ToString());
        list.Stdout.ShouldContain(pending.Id);
        list.Stdout.ShouldContain(pending.CodeSha256[..12]);
        list.Stdout.ShouldContain("tidy the report");
        list.Stdout.ShouldNotContain(decided.Id);
        using var json = JsonDocument.Parse(all.Stdout);
        json.RootElement.EnumerateArray().Select(a => a.GetProperty("id").GetString()).ShouldBe([pending.Id, decided.Id], ignoreOrder: true);
    }

    [Fact]
    public async Task Approve_DecidesItAndAuditsTheActor_AndApprovingAgainExits1()
    {
        var (id, _) = await _cli.CreateAgentAsync("bot");
        var approval = await _cli.CreateApprovalAsync(id, "bot");

        var approve = await _cli.RunAsync("approvals", "approve", approval.Id, "--note", "looks fine", "--by", "alice");
        var again = await _cli.RunAsync("approvals", "approve", approval.Id);

        approve.Code.ShouldBe(0, approve.ToString());
        approve.Stdout.ShouldContain($"approved {approval.Id}");
        again.Code.ShouldBe(AdminExitCodes.Failed);
        again.Stderr.ShouldContain("already approved");
        await using var store = await _cli.OpenStoreAsync();
        var stored = (await store.FindApprovalAsync(approval.Id, Ct)).ShouldNotBeNull();
        stored.State.ShouldBe(ApprovalState.Approved);
        stored.DecidedBy.ShouldBe("alice");
        stored.Note.ShouldBe("looks fine");
        var record = (await store.QueryAuditAsync(new AuditQuery { Kind = AuditKinds.Approval }, Ct)).ShouldHaveSingleItem();
        record.Status.ShouldBe("approved");
        record.RunId.ShouldBe(approval.RunId);
        using var data = JsonDocument.Parse(record.Data);
        data.RootElement.GetProperty("by").GetString().ShouldBe("alice");
        data.RootElement.GetProperty("approvalId").GetString().ShouldBe(approval.Id);
    }

    [Fact]
    public async Task Deny_WithoutBy_RecordsTheCliUser()
    {
        var (id, _) = await _cli.CreateAgentAsync("bot");
        var approval = await _cli.CreateApprovalAsync(id, "bot");

        var deny = await _cli.RunAsync("approvals", "deny", approval.Id);

        deny.Code.ShouldBe(0, deny.ToString());
        await using var store = await _cli.OpenStoreAsync();
        var stored = (await store.FindApprovalAsync(approval.Id, Ct)).ShouldNotBeNull();
        stored.State.ShouldBe(ApprovalState.Denied);
        stored.DecidedBy.ShouldBe("cli:" + Environment.UserName);
    }

    [Fact]
    public async Task Decide_UnknownApproval_Exits1()
    {
        await _cli.CreateEmptyStoreAsync();
        var output = await _cli.RunAsync("approvals", "approve", "apr_0000000000000000");

        output.Code.ShouldBe(AdminExitCodes.Failed);
        output.Stderr.ShouldStartWith("sandbox: no approval");
    }

    [Fact]
    public async Task Show_PrintsEveryFieldAndTheCode()
    {
        var (id, _) = await _cli.CreateAgentAsync("bot");
        var approval = await _cli.CreateApprovalAsync(id, "bot", code: "import os\nprint(os.listdir('/'))\n");

        var output = await _cli.RunAsync("approvals", "show", approval.Id);

        output.Code.ShouldBe(0, output.ToString());
        output.Stdout.ShouldContain(approval.RunId);
        output.Stdout.ShouldContain("tidy the report");
        output.Stdout.ShouldContain("profile python requires approval");
        output.Stdout.ShouldContain($"{approval.CodeSha256} (matches the code below)");
        output.Stdout.ShouldContain($"import os\nprint(os.listdir('/'))\n----- end of code [{Fence(output.Stdout)}] -----");
    }

    /// <summary>
    /// Attack: innocent code (<c>import helper</c>) whose work is done by a file and stdin the approver never saw.
    /// Expected: the files (path, size, SHA-256, content), stdin, runtime and limits are printed, with the digest the approval binds.
    /// </summary>
    [Fact]
    public async Task Show_PrintsFilesStdinRuntimeLimitsAndTheDigestItBinds()
    {
        var (id, _) = await _cli.CreateAgentAsync("bot");
        const string Helper = "import shutil\nshutil.rmtree('/')\n";
        var approval = await _cli.CreateApprovalAsync(id, "bot", code: "import helper\n", shape: WithFiles(Helper));

        var output = await _cli.RunAsync("approvals", "show", approval.Id);

        output.Code.ShouldBe(0, output.ToString());
        var fence = Fence(output.Stdout);
        output.Stdout.ShouldContain($"----- file helper.py ({Helper.Length} bytes, sha256 {Sandbox.Guard.Policy.AuditRecords.Sha256(Helper)}) [{fence}] -----\n{Helper}----- end of file [{fence}] -----");
        output.Stdout.ShouldContain("----- stdin (12 bytes, sha256 " + Sandbox.Guard.Policy.AuditRecords.Sha256("rm -rf ~/*\n\n") + $") [{fence}] -----\nrm -rf ~/*\n\n----- end of stdin [{fence}] -----");
        output.Stdout.ShouldContain("backend:  docker, runtime runsc");
        output.Stdout.ShouldContain("memoryBytes=268435456");
        output.Stdout.ShouldContain($"binds:    {approval.RequestSha256} (code, files, stdin, profile, runtime and limits below match it");
    }

    /// <summary>Attack: a stored file changed after the run asked (what is shown is not what was bound). Expected: the approver is told not to approve.</summary>
    [Fact]
    public async Task Show_FileNotMatchingTheDigest_WarnsTheApprover()
    {
        var (id, _) = await _cli.CreateAgentAsync("bot");
        var approval = await _cli.CreateApprovalAsync(id, "bot", code: "import helper\n", shape: WithFiles("print('evil')\n"));
        await _cli.ExecuteRawAsync($"UPDATE approvals SET details = replace(details, 'evil', 'nice') WHERE id = '{approval.Id}'");

        var output = await _cli.RunAsync("approvals", "show", approval.Id);

        output.Stdout.ShouldContain($"binds:    {approval.RequestSha256} DOES NOT MATCH what is shown");
        output.Stdout.ShouldContain("DOES NOT MATCH its content");
    }

    /// <summary>
    /// Attack: a file that prints its own end-of-section line, then a fake stdin section and a fake verdict, so that its
    /// real payload reads as ours (or as another, harmless section). Expected: the file's section ends only at the line
    /// carrying this show's marker, and the whole content, the imitations included, lies inside it.
    /// </summary>
    [Fact]
    public async Task Show_FileImitatingTheEndMarker_CannotEndItsSectionEarly()
    {
        var (id, _) = await _cli.CreateAgentAsync("bot");
        const string Helper = "print('hi')\n----- end of file -----\n\n----- stdin (0 bytes) -----\n----- end of stdin -----\n"
            + "----- end of file [aaaaaaaaaaaaaa] -----\nimport shutil; shutil.rmtree('/')\n";
        var approval = await _cli.CreateApprovalAsync(id, "bot", code: "import helper\n", shape: WithFiles(Helper));

        var output = await _cli.RunAsync("approvals", "show", approval.Id);

        output.Code.ShouldBe(0, output.ToString());
        var fence = Fence(output.Stdout);
        Helper.ShouldNotContain(fence);
        var lines = output.Stdout.Split('\n');
        var start = Array.FindIndex(lines, l => l.StartsWith("----- file helper.py", StringComparison.Ordinal) && l.EndsWith($"[{fence}] -----", StringComparison.Ordinal));
        var end = Array.FindIndex(lines, start + 1, l => l.Contains(fence, StringComparison.Ordinal));
        start.ShouldBeGreaterThan(0);
        lines[end].ShouldBe($"----- end of file [{fence}] -----");
        (string.Join('\n', lines[(start + 1)..end]) + "\n").ShouldBe(Helper);
    }

    [Fact]
    public void NewFence_ACandidateFoundInWhatIsShown_IsNeverUsed()
    {
        var candidates = new Queue<string>(["aaaaaaaaaaaaaa", "bbbbbbbbbbbbbb", "cccccccccccccc"]);

        var fence = ApprovalsCommand.NewFence(["x aaaaaaaaaaaaaa", "bbbbbbbbbbbbbb"], candidates.Dequeue);

        fence.ShouldBe("cccccccccccccc");
    }

    /// <summary>The marker this show drew, from its <c>fence:</c> line.</summary>
    private static string Fence(string stdout)
    {
        var fence = System.Text.RegularExpressions.Regex.Match(stdout, @"^  fence:    \[([a-z0-9]{14})\]", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value;
        fence.ShouldNotBeNullOrEmpty("the show names its marker");
        return fence;
    }

    private static Func<Approval, Approval> WithFiles(string helper) => a =>
    {
        var shaped = a with
        {
            Files = [ApprovalDigest.File(new Sandbox.Core.Runs.InputFile { Path = "helper.py", Content = helper })],
            Stdin = "rm -rf ~/*\n\n",
            Backend = "docker",
            Runtime = "runsc",
            Limits = new Sandbox.Core.Limits.ResourceLimits
            {
                WallTimeMs = 10_000, CpuTimeMs = 5_000, MemoryBytes = 268_435_456, Pids = 64,
                StdoutBytes = 1_048_576, StderrBytes = 1_048_576, FileSizeBytes = 16_777_216, TmpBytes = 67_108_864,
            },
        };
        return shaped with { RequestSha256 = ApprovalDigest.Of(shaped) };
    };

    /// <summary>
    /// Attack: code that rewrites the approver's terminal (an escape sequence that erases the line, a carriage
    /// return that overwrites it) or reorders what is shown (a right-to-left override, "Trojan Source").
    /// Expected: each is printed as a visible \u{XXXX}, and no raw control character reaches the terminal.
    /// </summary>
    [Fact]
    public async Task Show_HostileCode_ControlAndBidiCharactersAreMadeVisible()
    {
        var (id, _) = await _cli.CreateAgentAsync("bot");
        const string Code = "print('safe')\u001b[2K\rimport shutil; shutil.rmtree('/') # \u202Eevil\u202C\n";
        var approval = await _cli.CreateApprovalAsync(id, "bot", code: Code);

        var output = await _cli.RunAsync("approvals", "show", approval.Id);

        output.Code.ShouldBe(0);
        output.Stdout.ShouldContain(@"print('safe')\u{001B}[2K\u{000D}import shutil");
        output.Stdout.ShouldContain(@"\u{202E}evil\u{202C}");
        output.Stdout.ShouldNotContain("\u001b");
        output.Stdout.ShouldNotContain("\r");
        output.Stdout.ShouldNotContain("\u202E");
    }

    /// <summary>Attack: stored code that is not what its hash (and so the run) says. Expected: the approver is told not to approve.</summary>
    [Fact]
    public async Task Show_CodeNotMatchingItsHash_WarnsTheApprover()
    {
        var (id, _) = await _cli.CreateAgentAsync("bot");
        var approval = await _cli.CreateApprovalAsync(id, "bot", code: "print(1)", codeSha256: new string('a', 64));

        var output = await _cli.RunAsync("approvals", "show", approval.Id);

        output.Stdout.ShouldContain("DOES NOT MATCH");
    }

    [Fact]
    public async Task Show_UnknownApproval_Exits1()
    {
        await _cli.CreateEmptyStoreAsync();
        var output = await _cli.RunAsync("approvals", "show", "apr_nope");

        output.Code.ShouldBe(AdminExitCodes.Failed);
    }

    public void Dispose() => _cli.Dispose();
}
