namespace Sandbox.Wasm.Tests.Differential;

/// <summary>
/// QuickJS (images/javascript-wasm, built by <c>make guests</c>) evaluating the scripts in JavaScript/ from
/// stdin, under our engine and under Node's V8: same stdout, same exit code.
/// </summary>
[Trait("Category", "Integration")]
public sealed class QuickJsDifferentialTests
{
    private static GuestInput Script(string name, params string[] args)
    {
        var wasm = Path.Combine(GuestRequirement.JavaScriptGuest(), "qjs.wasm");
        return GuestInput.Of(wasm, args) with { Stdin = File.ReadAllBytes(Differential.ProgramPath("JavaScript", name)) };
    }

    [Theory]
    [InlineData("language.js")]
    [InlineData("builtins.js")]
    [InlineData("async.js")]
    [InlineData("compute.js")]
    public async Task Script_FromStdin_SameOutputAsNode(string name)
    {
        var (ours, _) = await Differential.AssertSameAsync(Script(name));

        ours.ExitCode.ShouldBe(0, ours.Stderr);
        ours.Stdout.ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Script_UncaughtException_ExitOneAndStackOnStderrLikeNode()
    {
        var (ours, node) = await Differential.AssertSameAsync(Script("uncaught.js"));

        ours.ExitCode.ShouldBe(1);
        ours.Stdout.ShouldBe("before\n");
        ours.Stderr.ShouldStartWith("RangeError: deliberate\n");
        ours.Stderr.ShouldBe(node.Stderr);
    }

    [Fact]
    public async Task Script_CommandLineCode_PrintsResult()
    {
        var wasm = Path.Combine(GuestRequirement.JavaScriptGuest(), "qjs.wasm");

        var (ours, _) = await Differential.AssertSameAsync(GuestInput.Of(wasm, "-e", "print(1 + 1)"));

        ours.Stdout.ShouldBe("2\n");
    }

    [Fact]
    public async Task Script_DeepRecursion_CatchableRangeErrorNotATrap()
    {
        var wasm = Path.Combine(GuestRequirement.JavaScriptGuest(), "qjs.wasm");
        const string Code = "function f(n) { return f(n + 1) + 1; } try { f(0) } catch (e) { print(e.name, e.message) }";

        var (ours, _) = await Differential.AssertSameAsync(GuestInput.Of(wasm, "-e", Code));

        ours.Stdout.ShouldBe("InternalError stack overflow\n");
    }

    [Fact]
    public async Task Script_PastMemoryLimit_CatchableOutOfMemoryNotATrap()
    {
        var wasm = Path.Combine(GuestRequirement.JavaScriptGuest(), "qjs.wasm");
        const string Code = "let a = []; try { for (;;) a.push(new Array(10000).fill(1)) } catch (e) { a = null; print(e.name, e.message) }";

        // 16 MB: the guest's linear memory grows well past its initial size before QuickJS says no.
        var (ours, _) = await Differential.AssertSameAsync(GuestInput.Of(wasm, "--memory-limit", "16000000", "-e", Code));

        ours.Stdout.ShouldBe("InternalError out of memory\n");
        ours.ExitCode.ShouldBe(0);
    }

    [Fact]
    public async Task Script_FileInPreopenedFolder_SameOutputAsStdin()
    {
        var wasm = Path.Combine(GuestRequirement.JavaScriptGuest(), "qjs.wasm");
        var folder = Path.GetDirectoryName(Differential.ProgramPath("JavaScript", "compute.js"))!;
        var input = new GuestInput(wasm, ["/scripts/compute.js"], [], new Dictionary<string, string> { ["/scripts"] = folder });

        var (fromFile, _) = await Differential.AssertSameAsync(input);
        var (fromStdin, _) = await Differential.AssertSameAsync(Script("compute.js"));

        fromFile.Stdout.ShouldBe(fromStdin.Stdout);
        fromFile.ExitCode.ShouldBe(0, fromFile.Stderr);
    }
}
