namespace Sandbox.Wasm.Tests.Differential;

/// <summary>
/// CPython 3.11 (images/python-wasm, built by <c>make guests</c>) running the programs in Python/ through
/// <c>-c</c>, with its stdlib preopened read-only at <c>/usr/local</c>, under our engine and under Node's V8.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CPythonDifferentialTests
{
    private static GuestInput Program(string name)
    {
        var guest = GuestRequirement.PythonGuest();
        var source = File.ReadAllText(Differential.ProgramPath("Python", name));
        return new GuestInput(
            Path.Combine(guest, "python.wasm"),
            ["-c", source],
            [],
            new Dictionary<string, string> { ["/usr/local"] = Path.Combine(guest, "usr-local") });
    }

    [Fact]
    public async Task Print_OnePlusOne_Two()
    {
        var input = Program("basics.py") with { Args = ["-c", "print(1+1)"] };

        var (ours, _) = await Differential.AssertSameAsync(input);

        ours.Stdout.ShouldBe("2\n");
        ours.ExitCode.ShouldBe(0);
    }

    [Theory]
    [InlineData("basics.py")]
    [InlineData("stdlib.py")]
    [InlineData("compute.py")]
    public async Task Program_SameOutputAsNode(string name)
    {
        var (ours, _) = await Differential.AssertSameAsync(Program(name));

        ours.ExitCode.ShouldBe(0, ours.Stderr);
        ours.Stdout.ShouldNotBeEmpty();
    }

    [Fact]
    public async Task SysExit_CodeAndFlushedStdoutLikeNode()
    {
        var (ours, _) = await Differential.AssertSameAsync(Program("exit.py"));

        ours.ExitCode.ShouldBe(3);
        ours.Stdout.ShouldBe("about to exit\n");
        ours.Stderr.ShouldBe("on stderr\n");
    }

    [Fact]
    public async Task UncaughtException_TracebackAndExitOneLikeNode()
    {
        var (ours, node) = await Differential.AssertSameAsync(Program("uncaught.py"));

        ours.ExitCode.ShouldBe(1);
        ours.Stdout.ShouldBe("before\n");
        ours.Stderr.ShouldBe(node.Stderr);
        ours.Stderr.ShouldEndWith("KeyError: 'deliberate'\n");
    }

    [Fact]
    public async Task Stdin_ReadToEnd_SameOutputAsNode()
    {
        var input = Program("basics.py") with
        {
            Args = ["-c", "import sys; data = sys.stdin.read(); print(len(data), data.upper().split())"],
            Stdin = System.Text.Encoding.UTF8.GetBytes("several words\non two lines\n"),
        };

        var (ours, _) = await Differential.AssertSameAsync(input);

        ours.Stdout.ShouldBe("27 ['SEVERAL', 'WORDS', 'ON', 'TWO', 'LINES']\n");
    }
}
