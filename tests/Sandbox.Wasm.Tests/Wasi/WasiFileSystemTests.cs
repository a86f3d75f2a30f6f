using System.Text;
using Sandbox.Wasm.Tests.Support;
using Sandbox.Wasm.Wasi;

namespace Sandbox.Wasm.Tests.Wasi;

/// <summary>
/// The file system on real guests: <c>Fixtures/Wasi/fs.c</c> (wasi-libc, so the paths libc takes are the
/// real ones) and <c>fs-hostile.wat</c> (raw calls with hostile pointers). Errno numbers are WASI's.
/// </summary>
public sealed class WasiFileSystemTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("wasi-fs-");

    public WasiFileSystemTests()
    {
        // usr-local is the preopen; outside/ and secret.txt sit beside it, reachable only through the links.
        var usrLocal = Directory.CreateDirectory(Path.Join(_root.FullName, "usr-local", "lib"));
        File.WriteAllText(Path.Join(usrLocal.FullName, "hello.txt"), "from the host\n");
        File.WriteAllText(Path.Join(_root.FullName, "secret.txt"), "host secret\n");
        Directory.CreateDirectory(Path.Join(_root.FullName, "outside"));
        File.WriteAllText(Path.Join(_root.FullName, "outside", "secret.txt"), "host secret\n");
        File.CreateSymbolicLink(Path.Join(_root.FullName, "usr-local", "link-to-secret"), Path.Join(_root.FullName, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Join(_root.FullName, "usr-local", "link-to-outside"), Path.Join(_root.FullName, "outside"));
    }

    public void Dispose() => _root.Delete(recursive: true);

    private WasiOptions Options(string scenario, WasiTmpOptions? tmp = null) => new()
    {
        Args = ["fs", scenario],
        Tmp = tmp ?? new WasiTmpOptions(),
        Preopens = [new WasiPreopen("/usr/local", Path.Join(_root.FullName, "usr-local"))],
    };

    private static (int ExitCode, string Stdout) Run(WasiOptions options)
    {
        var engine = new WasmEngine();
        using var host = new WasiHost(options);
        var linker = new WasmLinker();
        host.Define(engine, linker);
        var instance = engine.Instantiate(engine.Compile(Fixture.Load("Wasi/fs")), linker);
        // wasi-libc's _start returns when main returns 0 and calls proc_exit otherwise.
        var exitCode = engine.RunOnExecutionThread(() =>
        {
            try
            {
                instance.Invoke("_start");
                return 0;
            }
            catch (WasiExitException exit)
            {
                return exit.ExitCode;
            }
        });
        return (exitCode, Encoding.UTF8.GetString(host.Stdout.Span));
    }

    [Fact]
    public void Tmp_CreateReadSeekAppendRenameRemove_BehavesLikePosix()
    {
        var (exitCode, stdout) = Run(Options("tmp"));

        exitCode.ShouldBe(0);
        stdout.ShouldBe("""
            mkdir=0
            create=0
            stat=0
            size=10 dir=0
            tell=6
            read=4 tmp
            pread=hello
            appended=15
            list /tmp/a: b.txt
            rename=0
            list /tmp: a c.txt
            rmdir-root=2
            rmdir=0
            unlink=0
            unlink-again=44
            list /tmp:

            """.Replace("\r", "", StringComparison.Ordinal));
    }

    [Fact]
    public void ReadOnlyPreopen_ReadsAndListsButRefusesEveryWrite()
    {
        var (_, stdout) = Run(Options("readonly"));

        stdout.ShouldBe("""
            open=0
            content=from the host
            list /usr/local: lib link-to-outside link-to-secret
            list /usr/local/lib: hello.txt
            write=69
            append=69
            create=69
            mkdir=69
            unlink=69
            rmdir=69
            rename=69
            rename-to-tmp=75

            """.Replace("\r", "", StringComparison.Ordinal));
        File.ReadAllText(Path.Join(_root.FullName, "usr-local", "lib", "hello.txt")).ShouldBe("from the host\n");
    }

    [Fact]
    public void PathEscapes_DotDotAbsoluteAndSymlinks_AllRefused()
    {
        var (_, stdout) = Run(Options("escape"));

        stdout.ShouldBe("""
            dotdot=76
            dotdot-tmp=76
            dotdot-inside=0
            absolute=76
            link-file=76
            link-dir=76
            link-stat=76
            link-list=76

            """.Replace("\r", "", StringComparison.Ordinal));
    }

    [Fact]
    public void Tmp_OverByteAndEntryCaps_Enospc()
    {
        var (_, stdout) = Run(Options("full", new WasiTmpOptions { MaxBytes = 100_000, MaxEntries = 10 }));

        // 24 whole chunks fit in 100 000 bytes; then ENOSPC (51). One entry is /tmp/big, so 9 more files.
        stdout.ShouldBe("written=98304 errno=51\nentries=9 errno=51\n");
    }

    [Fact]
    public void Tmp_FileOverSizeCap_Efbig()
    {
        var (_, stdout) = Run(Options("full", new WasiTmpOptions { MaxBytes = 1_000_000, MaxFileBytes = 10_000 }));

        stdout.ShouldStartWith("written=8192 errno=22\n");
    }

    [Fact]
    public void PollOneoff_ClockSubscription_SleepsAtLeastTheTime()
    {
        var (_, stdout) = Run(Options("sleep") with { Args = ["fs", "sleep", "30"] });

        stdout.ShouldBe("slept=1\n");
    }

    [Fact]
    public void PollOneoff_SleepPastTheInterrupt_TrapsInterrupted()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        var engine = new WasmEngine();
        using var host = new WasiHost(Options("sleep") with { Args = ["fs", "sleep", "60000"], Interrupt = deadline.Token });
        var linker = new WasmLinker();
        host.Define(engine, linker);
        var instance = engine.Instantiate(engine.Compile(Fixture.Load("Wasi/fs"), TestContext.Current.CancellationToken), linker);

        var started = TimeProvider.System.GetTimestamp();
        Should.Throw<WasmTrapException>(() => engine.RunOnExecutionThread(() => instance.Invoke("_start"))).Kind.ShouldBe(WasmTrapKind.Interrupted);
        TimeProvider.System.GetElapsedTime(started).ShouldBeLessThan(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void PollOneoff_StdinSubscription_ReadyWithTheBuffer()
    {
        var (_, stdout) = Run(Options("stdin") with { Stdin = Encoding.UTF8.GetBytes("typed\n") });

        stdout.ShouldBe("poll=1 revents=1\nstdin=typed\n");
    }

    [Fact]
    public void Tmp_InitialFiles_VisibleToTheGuest()
    {
        var tmp = new WasiTmpOptions { Files = new Dictionary<string, ReadOnlyMemory<byte>> { ["a/b.txt"] = Encoding.UTF8.GetBytes("x") } };

        var (_, stdout) = Run(Options("tmp", tmp));

        // The probe's own mkdir of /tmp/a now finds it (EEXIST, 20) and the rest proceeds.
        stdout.ShouldStartWith("mkdir=20\ncreate=0\n");
    }

    [Theory]
    [InlineData("open_path_out_of_bounds", 21)]
    [InlineData("open_path_length_wraps", 21)]
    [InlineData("open_result_out_of_bounds", 21)]
    [InlineData("open_absolute", 76)]
    [InlineData("open_dotdot", 76)]
    [InlineData("mkdir_dotdot", 76)]
    [InlineData("prestat_name_out_of_bounds", 21)]
    [InlineData("readdir_buffer_out_of_bounds", 21)]
    [InlineData("filestat_out_of_bounds", 21)]
    [InlineData("path_filestat_out_of_bounds", 21)]
    [InlineData("poll_out_of_bounds", 21)]
    [InlineData("poll_count_huge", 21)]
    [InlineData("open_until_emfile", 33)]
    public void HostileCall_BadPointerOrPath_ReturnsErrnoAndTouchesNothing(string export, int errno)
    {
        var engine = new WasmEngine();
        using var host = new WasiHost(new WasiOptions { Tmp = new WasiTmpOptions() });
        var linker = new WasmLinker();
        host.Define(engine, linker);
        var instance = engine.Instantiate(engine.Compile(Fixture.Load("Wasi/fs-hostile"), TestContext.Current.CancellationToken), linker);

        instance.Invoke(export)[0].AsI32().ShouldBe(errno);
        host.TmpBytes.ShouldBe(0);
    }

    [Fact]
    public void FdPread_HostFileAtOffsetNearTwoToThe63_EinvalForTheGuest()
    {
        // Issue 17: the host's read failed with EINVAL and the exception escaped as a sandbox error.
        var engine = new WasmEngine();
        using var host = new WasiHost(Options("none"));
        var linker = new WasmLinker();
        host.Define(engine, linker);
        var instance = engine.Instantiate(engine.Compile(Fixture.Load("Wasi/fs-hostile"), TestContext.Current.CancellationToken), linker);

        instance.Invoke("pread_huge_offset")[0].AsI32().ShouldBe(WasiErrno.Invalid);
    }

    [Fact]
    public void New_PreopenFolderMissing_Throws()
    {
        Should.Throw<DirectoryNotFoundException>(() => new WasiHost(new WasiOptions { Preopens = [new WasiPreopen("/x", Path.Join(_root.FullName, "missing"))] }));
    }
}
