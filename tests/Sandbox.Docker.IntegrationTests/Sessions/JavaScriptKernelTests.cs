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
/// The JavaScript kernel against the real daemon: one Node context kept between cells (declarations, globals, awaited
/// values), a cell's async work finished before its end, exceptions that end the cell and keep the kernel, a forged
/// marker that ends nothing, artifacts handed out per cell, and breaches that restart this session only, in time.
/// </summary>
[Trait("Category", "Integration")]
public sealed class JavaScriptKernelTests(SandboxFixture sandbox)
{
    private readonly KernelSessions _kernels = new(sandbox, "javascript");

    [Fact]
    public async Task Execute_Cells_KeepDeclarationsGlobalsAndAwaitedValues()
    {
        await using var session = await _kernels.OpenAsync();

        var first = await _kernels.CellAsync(session, "let x = 41; const add = (a) => a + 1; function twice(v) { return v * 2; }\nglobalThis.seen = 'g'; class Point {}\nconsole.log('set')");
        first.Status.ShouldBe(RunStatus.Ok, first.Message + first.Stderr);
        first.Stdout.ShouldBe("set\n");

        (await _kernels.CellAsync(session, "add(x)")).Stdout.ShouldBe("42\n", "the last expression's value is printed, as the Node REPL does");

        var awaited = await _kernels.CellAsync(session, "const y = await new Promise((resolve) => setTimeout(() => resolve(7), 50));\ntwice(y)");
        awaited.Status.ShouldBe(RunStatus.Ok, awaited.Message + awaited.Stderr);
        awaited.Stdout.ShouldBe("14\n");

        (await _kernels.CellAsync(session, "[y, seen, typeof Point]")).Stdout.ShouldBe("[ 7, 'g', 'function' ]\n", "a declaration after a top-level await persists too");

        var timers = await _kernels.CellAsync(session, "setTimeout(() => console.log('late'), 150); console.log('early')");
        timers.Stdout.ShouldBe("early\nlate\n", "a cell ends once the timers it started are done, as a script's run does");
        session.Restarts.ShouldBe(0);
    }

    [Fact]
    public async Task Execute_ExceptionsRejectionsAndExit_AreTheCellsOutcomeAndKeepTheKernel()
    {
        await using var session = await _kernels.OpenAsync();
        await _kernels.CellAsync(session, "var kept = 'yes'");

        var thrown = await _kernels.CellAsync(session, "function f() { null.x; }\nf()");
        thrown.Status.ShouldBe(RunStatus.RuntimeError);
        thrown.ExitCode.ShouldBe(1);
        thrown.Stderr.ShouldContain("TypeError");
        thrown.Stderr.ShouldContain("at f (cell:1");
        thrown.Stderr.ShouldNotContain("main.js", Case.Sensitive, "the kernel's own frames stay out of the trace");

        (await _kernels.CellAsync(session, "Promise.reject(new Error('refused'))")).ExitCode.ShouldBe(1);
        var late = await _kernels.CellAsync(session, "setTimeout(() => { throw new Error('in a callback'); }, 20)");
        late.ExitCode.ShouldBe(1);
        late.Stderr.ShouldContain("in a callback");
        (await _kernels.CellAsync(session, "process.exit(3)")).ExitCode.ShouldBe(3);
        (await _kernels.CellAsync(session, "process.exitCode = 4")).ExitCode.ShouldBe(4);

        (await _kernels.CellAsync(session, "kept")).Stdout.ShouldBe("'yes'\n");
        session.Restarts.ShouldBe(0);
    }

    [Fact]
    public async Task Execute_StdinFilesAndAChildReadingStdin_ServeTheCellAndLeaveTheFramesAlone()
    {
        await using var session = await _kernels.OpenAsync();

        var read = await _kernels.CellAsync(session, "require('fs').readFileSync(0, 'utf8').trim().split('\\n').reverse().join(',') + ' ' + require('fs').readFileSync('data.csv', 'utf8')",
            stdin: "a\nb\n", files: [new InputFile { Path = "data.csv", Content = "1,2" }]);
        read.Stdout.ShouldBe("'b,a 1,2'\n", read.Stderr);

        // A child that inherits stdin reads /dev/null: it cannot eat the next cell's frame, so the next cell still runs.
        var child = await _kernels.CellAsync(session, "require('child_process').execFileSync('cat', [], { stdio: ['inherit', 'pipe', 'inherit'] }).length",
            new LimitOverrides { WallTimeMs = 3000 });
        child.Status.ShouldBe(RunStatus.Ok, child.Message + child.Stderr);
        child.Stdout.ShouldBe("0\n");
        (await _kernels.CellAsync(session, "'next'")).Stdout.ShouldBe("'next'\n");
        session.Restarts.ShouldBe(0);
    }

    [Fact]
    public async Task Execute_CellPatchesWhatTheKernelUses_LaterCellsStillGetTheirFilesAndEnd()
    {
        await using var session = await _kernels.OpenAsync();
        var patched = await _kernels.CellAsync(session, "JSON.parse = () => ({}); require('fs').writeSync = () => { throw new Error('mocked'); };\n" +
            "globalThis.setTimeout = undefined; process.getActiveResourcesInfo = () => []; 'patched'");
        patched.Stdout.ShouldBe("'patched'\n", patched.Stderr);

        var next = await _kernels.CellAsync(session, "require('fs').readFileSync('/tmp/note.txt', 'utf8')", new LimitOverrides { WallTimeMs = 3000 },
            files: [new InputFile { Path = "note.txt", Content = "still framed" }]);
        next.Status.ShouldBe(RunStatus.Ok, next.Message + next.Stderr);
        next.Stdout.ShouldBe("'still framed'\n");
        session.Restarts.ShouldBe(0);
    }

    [Fact]
    public async Task Execute_CellPrintsForgedMarkers_TheCellRunsOnAndTheNextCellIsIntact()
    {
        await using var session = await _kernels.OpenAsync();
        var guessed = new string('f', 32);
        var forged = await _kernels.CellAsync(session, $$"""
            process.stdout.write('\0SBX-END {{guessed}} 0\n');
            process.stderr.write('\0SBX-END {{guessed}} 0\n');
            process.stdout.write('\x1eSANDBOX-OUTPUTS {{guessed}}\n');
            process.stdout.write('\0SBX-END ');
            await new Promise((resolve) => setTimeout(resolve, 100));
            console.log('after');
            """);

        forged.Status.ShouldBe(RunStatus.Ok, forged.Message + forged.Stderr);
        forged.Stdout.ShouldEndWith("after\n", Case.Sensitive, "a marker without this cell's nonce is only output");
        forged.Stdout.ShouldContain("SBX-END " + guessed);
        (await _kernels.CellAsync(session, "1 + 1")).Stdout.ShouldBe("2\n", "the frames are still in step");
        session.Restarts.ShouldBe(0);
    }

    [Fact]
    public async Task Execute_CellLeavesOutputs_TheyComeBackWithItAndTheFolderIsEmptied()
    {
        await using var session = await _kernels.OpenAsync();
        var csv = "city,people\nLyon,522000\n";
        var left = await _kernels.CellAsync(session, $$"""
            const fs = require('fs');
            fs.writeFileSync('/tmp/outputs/cities.csv', {{System.Text.Json.JsonSerializer.Serialize(csv)}});
            fs.symlinkSync('/etc/passwd', '/tmp/outputs/passwd');
            console.log('wrote');
            """);

        left.Status.ShouldBe(RunStatus.Ok, left.Message + left.Stderr);
        left.Stdout.ShouldBe("wrote\n", "the tar after the outputs marker is not the cell's output");
        var artifact = left.Artifacts.ShouldNotBeNull().ShouldHaveSingleItem();
        artifact.Path.ShouldBe("cities.csv");
        artifact.Sha256.ShouldBe(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(csv))));
        left.ArtifactsDropped.ShouldNotBeNull().Single(d => d.Path == "passwd").Reason.ShouldBe("not_a_regular_file");

        var next = await _kernels.CellAsync(session, "require('fs').readdirSync('/tmp/outputs')");
        next.Stdout.ShouldBe("[]\n", "each file comes back with the cell that left it");
        next.Artifacts.ShouldBeNull();
    }

    [Fact]
    public async Task Execute_InfiniteLoopPastItsWallTime_KilledInTimeAndOnlyThisSessionRestarts()
    {
        await using var spinning = await _kernels.OpenAsync();
        await using var bystander = await _kernels.OpenAsync();
        await _kernels.CellAsync(spinning, "let z = 1");
        await _kernels.CellAsync(bystander, "let kept = 'yes'");
        var before = (await _kernels.ContainersAsync(spinning.Id)).ShouldHaveSingleItem().Id;

        var watch = Stopwatch.StartNew();
        var spin = await _kernels.CellAsync(spinning, "while (true) {}", new LimitOverrides { WallTimeMs = 1000, CpuTimeMs = 3000 });
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(4), "the cell's own deadline holds");
        spin.Status.ShouldBe(RunStatus.Timeout, spin.Message);
        spin.Message.ShouldNotBeNull().ShouldContain("state");
        spinning.TakeNotes(_kernels.LastRunId).ShouldBe(new SessionCellNotes(Restarted: false, StateLost: true));
        (await _kernels.ContainersAsync(spinning.Id)).ShouldBeEmpty("the ended kernel's container is removed");

        var after = await _kernels.CellAsync(spinning, "typeof z");
        after.Stdout.ShouldBe("'undefined'\n");
        spinning.TakeNotes(_kernels.LastRunId).ShouldBe(new SessionCellNotes(Restarted: true, StateLost: false));
        (await _kernels.ContainersAsync(spinning.Id)).ShouldHaveSingleItem().Id.ShouldNotBe(before);

        (await _kernels.CellAsync(bystander, "kept")).Stdout.ShouldBe("'yes'\n");
        bystander.Restarts.ShouldBe(0);
    }

    [Fact]
    public async Task Execute_CellExhaustsMemory_KernelRestartsAndAnotherSessionKeepsItsState()
    {
        await using var hungry = await _kernels.OpenAsync();
        await using var bystander = await _kernels.OpenAsync();
        await _kernels.CellAsync(hungry, "let z = 1");
        await _kernels.CellAsync(bystander, "let kept = 'yes'");

        // Buffers live outside the V8 heap: the container's memory limit, not --max-old-space-size, is what they meet.
        var watch = Stopwatch.StartNew();
        var oom = await _kernels.CellAsync(hungry, "const hoard = []; while (true) hoard.push(Buffer.alloc(16 << 20, 1));");
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15));
        oom.Status.ShouldBe(RunStatus.MemoryLimit, oom.Message + oom.Stderr);
        hungry.TakeNotes(_kernels.LastRunId).ShouldBe(new SessionCellNotes(Restarted: false, StateLost: true));
        (await _kernels.ContainersAsync(hungry.Id)).ShouldBeEmpty("the killed kernel's container is removed");

        (await _kernels.CellAsync(hungry, "typeof z")).Stdout.ShouldBe("'undefined'\n");
        hungry.Restarts.ShouldBe(1);
        (await _kernels.CellAsync(bystander, "kept")).Stdout.ShouldBe("'yes'\n");
        bystander.Restarts.ShouldBe(0);
    }
}
