using System.Text;

namespace Sandbox.Wasm.Tests.Differential;

/// <summary>
/// Checked-in C programs built with clang-14 against wasi-libc (Programs/*.c, rebuilt by Programs/build.sh),
/// run under our engine and under Node's V8: same stdout, same exit code. Each also pins a value, so
/// both engines being wrong the same way does not pass.
/// </summary>
public sealed class CProgramDifferentialTests
{
    private static GuestInput Program(string name, params string[] args) =>
        GuestInput.Of(Differential.ProgramPath("Programs", name + ".wasm"), args);

    [Fact]
    public async Task Sha256_Stdin_SameDigestAsNode()
    {
        var input = Program("sha256") with { Stdin = Encoding.UTF8.GetBytes("hello\n") };

        var (ours, _) = await Differential.AssertSameAsync(input);

        // sha256sum of "hello\n".
        ours.Stdout.ShouldBe("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\n");
    }

    [Fact]
    public async Task Sha256_LargeStdinAcrossManyReads_SameDigestAsNode()
    {
        var bytes = new byte[300_000];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(i * 7 % 251);
        }

        var (ours, _) = await Differential.AssertSameAsync(Program("sha256") with { Stdin = bytes });

        ours.Stdout.ShouldBe(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)) + "\n");
    }

    [Fact]
    public async Task Sha256_GeneratedMegabyte_SameDigestAsNode()
    {
        var (ours, _) = await Differential.AssertSameAsync(Program("sha256", "1"));

        ours.Stdout.ShouldBe("e66e73d234a9dc864a38ce81064d675c3f57e5d95c188d604da1ce2e2fcdc9f9\n");
    }

    [Fact]
    public async Task Primes_TrialDivisionAndSieve_SameCountAsNode()
    {
        var (ours, _) = await Differential.AssertSameAsync(Program("primes", "100000"));

        ours.Stdout.ShouldBe("primes below 100000: 9592 (sieve 9592)\n");
        ours.ExitCode.ShouldBe(0);
    }

    [Fact]
    public async Task Libc_FormattingMathSortingStrings_SameOutputAsNode()
    {
        var (ours, _) = await Differential.AssertSameAsync(Program("libc"));

        ours.Stdout.ShouldContain("sin=0.841470984807897 exp=12.182493960703473");
        ours.Stdout.ShouldContain("len=40374 fnv=5bc793b967a2cfb5 strstr=40355");
    }

    [Theory]
    [InlineData("3", 3)]
    [InlineData("0", 0)]
    [InlineData("255", 255)]
    public async Task Exit_FromNestedCall_SameCodeAndFlushedStdoutAsNode(string code, int expected)
    {
        var input = Program("exit", code) with { Stdin = Encoding.UTF8.GetBytes("quiet words\n") };

        var (ours, node) = await Differential.AssertSameAsync(input);

        ours.ExitCode.ShouldBe(expected);
        ours.Stdout.ShouldBe($"QUIET WORDS\nread 12 bytes\nleaving with {code}\n");
        ours.Stderr.ShouldBe(node.Stderr);
    }
}
