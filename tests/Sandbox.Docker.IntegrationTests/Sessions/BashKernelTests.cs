using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Docker.IntegrationTests.Support;
using Sandbox.Docker.Sessions;

namespace Sandbox.Docker.IntegrationTests.Sessions;

/// <summary>
/// The bash kernel against the real daemon: one shell kept between cells (variables, functions, cwd, exported
/// variables, arrays), a cell's exit code as its <c>$?</c>, <c>exit</c> as a restart, stdin that cannot reach the frames,
/// a forged marker that ends nothing, artifacts per cell, and breaches that restart this session only, in time.
/// </summary>
[Trait("Category", "Integration")]
public sealed class BashKernelTests(SandboxFixture sandbox)
{
    private readonly KernelSessions _kernels = new(sandbox, "bash");

    [Fact]
    public async Task Execute_Cells_KeepVariablesFunctionsCwdAndExports()
    {
        await using var session = await _kernels.OpenAsync();

        var first = await _kernels.CellAsync(session, "x=41\ngreet() { echo \"hi $1\"; }\nexport SHARED=exported\ndeclare -A ages=([ada]=36)\nmkdir -p /tmp/work && cd /tmp/work\necho set");
        first.Status.ShouldBe(RunStatus.Ok, first.Message + first.Stderr);
        first.Stdout.ShouldBe("set\n");

        var second = await _kernels.CellAsync(session, "echo $((x + 1)); greet you; pwd; bash -c 'echo $SHARED'; echo ${ages[ada]}");
        second.Status.ShouldBe(RunStatus.Ok, second.Message + second.Stderr);
        second.Stdout.ShouldBe("42\nhi you\n/tmp/work\nexported\n36\n");
        session.Restarts.ShouldBe(0);
    }

    [Fact]
    public async Task Execute_ExitCodesSyntaxErrorsAndStrayLoopWords_EndTheCellAndKeepTheShell()
    {
        await using var session = await _kernels.OpenAsync();
        await _kernels.CellAsync(session, "kept=yes");

        var failed = await _kernels.CellAsync(session, "echo before; false");
        failed.Status.ShouldBe(RunStatus.RuntimeError);
        failed.ExitCode.ShouldBe(1);
        (await _kernels.CellAsync(session, "(exit 4)")).ExitCode.ShouldBe(4);
        (await _kernels.CellAsync(session, "return 7")).ExitCode.ShouldBe(7);
        var syntax = await _kernels.CellAsync(session, "if then");
        syntax.ExitCode.ShouldBe(2);
        syntax.Stderr.ShouldContain("syntax error");
        // The kernel's loop is not the cell's: a stray break or continue ends the cell, not the shell.
        (await _kernels.CellAsync(session, "echo a; break; echo b")).Stdout.ShouldBe("a\n");
        (await _kernels.CellAsync(session, "echo c; continue; echo d")).Stdout.ShouldBe("c\n");

        (await _kernels.CellAsync(session, "echo $kept")).Stdout.ShouldBe("yes\n");
        session.Restarts.ShouldBe(0);
    }

    [Fact]
    public async Task Execute_CellRunsExit_TheShellEndsAndTheNextCellStartsFresh()
    {
        await using var session = await _kernels.OpenAsync();
        await _kernels.CellAsync(session, "x=1");
        var before = (await _kernels.ContainersAsync(session.Id)).ShouldHaveSingleItem().Id;

        var exited = await _kernels.CellAsync(session, "echo bye; exit 3");
        exited.ExitCode.ShouldBe(3);
        exited.Stdout.ShouldBe("bye\n");
        exited.Message.ShouldNotBeNull().ShouldContain("state");
        session.TakeNotes(_kernels.LastRunId).ShouldBe(new SessionCellNotes(Restarted: false, StateLost: true));

        (await _kernels.CellAsync(session, "echo ${x:-gone}")).Stdout.ShouldBe("gone\n");
        session.TakeNotes(_kernels.LastRunId).ShouldBe(new SessionCellNotes(Restarted: true, StateLost: false));
        (await _kernels.ContainersAsync(session.Id)).ShouldHaveSingleItem().Id.ShouldNotBe(before, "the ended shell's container is removed");
    }

    [Fact]
    public async Task Execute_CellReadsStdinOrTheFrameStream_GetsItsOwnStdinAndTheFramesStayIntact()
    {
        await using var session = await _kernels.OpenAsync();

        var read = await _kernels.CellAsync(session, "read a; read b; echo \"$b$a\"; cat; cat data.txt", stdin: "1\n2\n3\n",
            files: [new InputFile { Path = "data.txt", Content = "file\n" }]);
        read.Stdout.ShouldBe("21\n3\nfile\n", read.Stderr);

        // With no stdin, cat ends at once instead of waiting on (and eating) the next frame; the kernel's fds are closed.
        var greedy = await _kernels.CellAsync(session, "cat; cat <&60; echo done", new LimitOverrides { WallTimeMs = 3000 });
        greedy.Status.ShouldBe(RunStatus.Ok, greedy.Message + greedy.Stderr);
        greedy.Stdout.ShouldBe("done\n");
        greedy.Stderr.ShouldContain("60");

        // A cell that sends its own stdout away still ends: the markers go through the kernel's own copy of it.
        var silenced = await _kernels.CellAsync(session, "exec >/dev/null; echo hidden", new LimitOverrides { WallTimeMs = 3000 });
        silenced.Status.ShouldBe(RunStatus.Ok, silenced.Message);
        silenced.Stdout.ShouldBeEmpty();
        session.Restarts.ShouldBe(0);
    }

    [Fact]
    public async Task Execute_CellPrintsForgedMarkers_TheCellRunsOnAndTheNextCellIsIntact()
    {
        await using var session = await _kernels.OpenAsync();
        var guessed = new string('f', 32);
        var forged = await _kernels.CellAsync(session,
            $"printf '\\0SBX-END {guessed} 0\\n'; printf '\\0SBX-END {guessed} 0\\n' >&2; printf '\\036SANDBOX-OUTPUTS {guessed}\\n'; printf '\\0SBX-END '; sleep 0.1; echo after");

        forged.Status.ShouldBe(RunStatus.Ok, forged.Message + forged.Stderr);
        forged.Stdout.ShouldEndWith("after\n", Case.Sensitive, "a marker without this cell's nonce is only output");
        forged.Stdout.ShouldContain("SBX-END " + guessed);
        (await _kernels.CellAsync(session, "echo $((1 + 1))")).Stdout.ShouldBe("2\n", "the frames are still in step");
        session.Restarts.ShouldBe(0);
    }

    [Fact]
    public async Task Execute_CellLeavesOutputs_TheyComeBackWithItAndTheFolderIsEmptied()
    {
        await using var session = await _kernels.OpenAsync();
        var left = await _kernels.CellAsync(session, "printf 'a,b\\n1,2\\n' > /tmp/outputs/table.csv; ln -s /etc/passwd /tmp/outputs/passwd; echo wrote");

        left.Status.ShouldBe(RunStatus.Ok, left.Message + left.Stderr);
        left.Stdout.ShouldBe("wrote\n", "the tar after the outputs marker is not the cell's output");
        var artifact = left.Artifacts.ShouldNotBeNull().ShouldHaveSingleItem();
        artifact.Path.ShouldBe("table.csv");
        artifact.Sha256.ShouldBe(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("a,b\n1,2\n"))));
        left.ArtifactsDropped.ShouldNotBeNull().Single(d => d.Path == "passwd").Reason.ShouldBe("not_a_regular_file");

        var next = await _kernels.CellAsync(session, "ls -A /tmp/outputs | wc -l");
        next.Stdout.ShouldBe("0\n", "each file comes back with the cell that left it");
        next.Artifacts.ShouldBeNull();
    }

    [Fact]
    public async Task Execute_InfiniteLoopPastItsWallTime_KilledInTimeAndOnlyThisSessionRestarts()
    {
        await using var spinning = await _kernels.OpenAsync();
        await using var bystander = await _kernels.OpenAsync();
        await _kernels.CellAsync(spinning, "z=1");
        await _kernels.CellAsync(bystander, "kept=yes");

        var watch = Stopwatch.StartNew();
        var spin = await _kernels.CellAsync(spinning, "while :; do :; done", new LimitOverrides { WallTimeMs = 1000, CpuTimeMs = 3000 });
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(4), "the cell's own deadline holds");
        spin.Status.ShouldBe(RunStatus.Timeout, spin.Message);
        spinning.TakeNotes(_kernels.LastRunId).ShouldBe(new SessionCellNotes(Restarted: false, StateLost: true));
        (await _kernels.ContainersAsync(spinning.Id)).ShouldBeEmpty("the ended kernel's container is removed");

        (await _kernels.CellAsync(spinning, "echo ${z:-gone}")).Stdout.ShouldBe("gone\n");
        spinning.TakeNotes(_kernels.LastRunId).ShouldBe(new SessionCellNotes(Restarted: true, StateLost: false));
        (await _kernels.CellAsync(bystander, "echo $kept")).Stdout.ShouldBe("yes\n");
        bystander.Restarts.ShouldBe(0);
    }

    [Fact]
    public async Task Execute_ShellExhaustsMemory_KernelRestartsAndAnotherSessionKeepsItsState()
    {
        await using var hungry = await _kernels.OpenAsync();
        await using var bystander = await _kernels.OpenAsync();
        await _kernels.CellAsync(hungry, "z=1");
        await _kernels.CellAsync(bystander, "kept=yes");

        // The shell itself grows (a string doubled in place), so it is the kernel the OOM killer ends.
        var watch = Stopwatch.StartNew();
        var oom = await _kernels.CellAsync(hungry, "s=xxxxxxxxxxxxxxxx; while :; do s=$s$s; done");
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15));
        oom.Status.ShouldBe(RunStatus.MemoryLimit, oom.Message + oom.Stderr);
        hungry.TakeNotes(_kernels.LastRunId).ShouldBe(new SessionCellNotes(Restarted: false, StateLost: true));
        (await _kernels.ContainersAsync(hungry.Id)).ShouldBeEmpty("the killed kernel's container is removed");

        (await _kernels.CellAsync(hungry, "echo ${z:-gone}")).Stdout.ShouldBe("gone\n");
        hungry.Restarts.ShouldBe(1);
        (await _kernels.CellAsync(bystander, "echo $kept")).Stdout.ShouldBe("yes\n");
        bystander.Restarts.ShouldBe(0);
    }
}
