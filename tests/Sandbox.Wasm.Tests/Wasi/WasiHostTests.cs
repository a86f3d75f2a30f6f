using System.Text;
using Sandbox.Wasm.Tests.Support;
using Sandbox.Wasm.Wasi;

namespace Sandbox.Wasm.Tests.Wasi;

public sealed class WasiHostTests
{
    private static (WasmEngine Engine, WasmInstance Instance, WasiHost Host) Start(WasiOptions options, WasmEngineOptions? engineOptions = null)
    {
        var engine = new WasmEngine(engineOptions);
        var host = new WasiHost(options);
        var linker = new WasmLinker();
        host.Define(engine, linker);
        var instance = engine.Instantiate(engine.Compile(Fixture.Load("Wasi/wasi-basics")), linker);
        return (engine, instance, host);
    }

    [Fact]
    public void Start_HelloAndExit_WritesStdoutAndExitsWithArgc()
    {
        var (_, instance, host) = Start(new WasiOptions { Args = ["prog", "a", "b"] });

        var exit = Should.Throw<WasiExitException>(() => instance.Invoke("_start"));

        exit.ExitCode.ShouldBe(3);
        Encoding.UTF8.GetString(host.Stdout.Span).ShouldBe("hello\n");
        host.StdoutTruncated.ShouldBeFalse();
    }

    [Fact]
    public void FdWrite_IovecPastEndOfMemory_ReturnsEfault()
    {
        var (_, instance, host) = Start(new WasiOptions());

        instance.Invoke("bad_iov")[0].AsI32().ShouldBe(21);
        host.Stdout.Length.ShouldBe(0);
    }

    [Fact]
    public void FdWrite_HugeIovecCount_ReturnsEfault()
    {
        var (_, instance, _) = Start(new WasiOptions());

        instance.Invoke("bad_iov_count")[0].AsI32().ShouldBe(21);
    }

    [Fact]
    public void FdWrite_StdoutFlood_KeptAtCapAndFlaggedUntilFuelRunsOut()
    {
        var (engine, instance, host) = Start(new WasiOptions { MaxStdoutBytes = 1000 });
        engine.Fuel = 1_000_000;

        Should.Throw<WasmTrapException>(() => instance.Invoke("flood")).Kind.ShouldBe(WasmTrapKind.OutOfFuel);

        host.Stdout.Length.ShouldBe(1000);
        host.StdoutTruncated.ShouldBeTrue();
    }

    [Fact]
    public void PathOpen_NoPreopens_ReturnsEbadf()
    {
        var (_, instance, _) = Start(new WasiOptions());

        instance.Invoke("unsupported")[0].AsI32().ShouldBe(8);
    }

    [Fact]
    public void Define_AllPreview1Functions_Linked()
    {
        var engine = new WasmEngine();
        var linker = new WasmLinker();
        new WasiHost(new WasiOptions()).Define(engine, linker);

        foreach (var name in new[] { "fd_write", "fd_read", "path_open", "poll_oneoff", "clock_time_get", "random_get", "proc_exit", "sock_shutdown", "environ_get" })
        {
            linker.TryResolve(WasiHost.ModuleName, name, out var value).ShouldBeTrue(name);
            value.ShouldBeOfType<WasmFunction>();
        }
    }

    [Fact]
    public void Start_CProgramBuiltWithWasiLibc_SameOutputAsNode()
    {
        var engine = new WasmEngine();
        var host = new WasiHost(new WasiOptions
        {
            Args = ["selftest", "arg1"],
            Environment = new Dictionary<string, string> { ["GREETING"] = "hi" },
            Stdin = Encoding.UTF8.GetBytes("line from stdin\n"),
        });
        var linker = new WasmLinker();
        host.Define(engine, linker);
        var instance = engine.Instantiate(engine.Compile(Fixture.Load("Wasi/selftest"), TestContext.Current.CancellationToken), linker);

        var exit = engine.RunOnExecutionThread(() => Should.Throw<WasiExitException>(() => instance.Invoke("_start")));

        exit.ExitCode.ShouldBe(7);
        Encoding.UTF8.GetString(host.Stdout.Span).ShouldBe(
            "argc=2 argv1=arg1\nenv=hi\nstdin=line from stdin\nsorted=1 first=0 last=9999\n" +
            "float=7.853982 sqrt2=1.4142135624\nmix=18c665fc\n");
        Encoding.UTF8.GetString(host.Stderr.Span).ShouldBe("to stderr\n");
    }

    private static WasmInstance StartCaps(WasiHost host)
    {
        var engine = new WasmEngine();
        var linker = new WasmLinker();
        host.Define(engine, linker);
        return engine.Instantiate(engine.Compile(Fixture.Load("Wasi/wasi-caps"), TestContext.Current.CancellationToken), linker);
    }

    [Fact]
    public void PollOneoff_MoreSubscriptionsThanTheCap_EinvalBeforeAllocating()
    {
        // Issue 17: 5.5M subscriptions reached 865 MB. 100,000 (all in guest memory) keep the test small either way.
        var instance = StartCaps(new WasiHost(new WasiOptions()));
        instance.Invoke("poll_many", WasmValue.I32(1))[0].AsI32().ShouldBe(0);
        var allocated = GC.GetAllocatedBytesForCurrentThread();

        instance.Invoke("poll_many", WasmValue.I32(100_000))[0].AsI32().ShouldBe(WasiErrno.Invalid);

        (GC.GetAllocatedBytesForCurrentThread() - allocated).ShouldBeLessThan(64 * 1024);
    }

    [Fact]
    public void PollOneoff_AtTheCap_Answered()
    {
        var instance = StartCaps(new WasiHost(new WasiOptions()));

        instance.Invoke("poll_many", WasmValue.I32(WasiHost.MaxPollSubscriptions))[0].AsI32().ShouldBe(0);
        instance.Memory!.Span[13107196..].ToArray().ShouldBe(BitConverter.GetBytes(WasiHost.MaxPollSubscriptions));
    }

    [Fact]
    public void FdWrite_MoreIovecsThanIovMax_Einval()
    {
        var instance = StartCaps(new WasiHost(new WasiOptions()));

        instance.Invoke("write_many", WasmValue.I32(WasiHost.MaxIovecs))[0].AsI32().ShouldBe(0);
        instance.Invoke("write_many", WasmValue.I32(WasiHost.MaxIovecs + 1))[0].AsI32().ShouldBe(WasiErrno.Invalid);
        instance.Invoke("write_many", WasmValue.I32(1_000_000))[0].AsI32().ShouldBe(WasiErrno.Invalid);
    }
}
