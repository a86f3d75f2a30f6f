using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Sandbox.Wasm.Tests.Conformance;

/// <summary>
/// The official core spec tests (../shared/wasm-spec). One theory case per file shows failures
/// individually; the summary test prints the per-file table and requires 99% of non-skipped checks to pass.
/// Results are cached so each file runs once per test run.
/// </summary>
[Trait("Category", "Conformance")]
public sealed class SpecConformanceTests
{
    private static readonly ConcurrentDictionary<string, Lazy<SpecFileResult>> s_results = new(StringComparer.Ordinal);

    public static TheoryData<string> SpecFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in SpecTestLocator.Files())
        {
            data.Add(file);
        }

        return data;
    }

    private static string Root => SpecTestLocator.FindRoot()
        ?? throw new InvalidOperationException("spec tests not found: expected ../shared/wasm-spec beside the checkout (or set WASM_SPEC_DIR)");

    /// <summary>The IL tier on every function from its first call, whatever its size (the default compiles only hot code).</summary>
    private static readonly WasmEngineOptions s_compileEverything = new() { CompileThreshold = 1, CompileLoopThreshold = 1, CompileMaxInstructions = int.MaxValue };

    private static SpecFileResult Result(string name) =>
        s_results.GetOrAdd(name, n => new Lazy<SpecFileResult>(() => SpecTestRunner.Run(Root, n, s_compileEverything))).Value;

    [Theory]
    [MemberData(nameof(SpecFiles))]
    public void SpecFile_RunAllCommands_EveryCheckPasses(string file)
    {
        var result = Result(file);
        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"{file}: {result.Passed} passed, {result.Failed} failed, {result.Skipped} skipped in {result.Elapsed.TotalMilliseconds:F0} ms");
        foreach (var failure in result.Failures.Take(50))
        {
            output?.WriteLine("FAIL " + failure);
        }

        result.Failures.ShouldBeEmpty();
    }

    [Fact]
    public void SpecSuite_AllFiles_AtLeast99PercentPass()
    {
        var files = SpecTestLocator.Files();
        files.ShouldNotBeEmpty("spec tests not found: expected ../shared/wasm-spec beside the checkout");
        var results = files.AsParallel().WithDegreeOfParallelism(2).Select(Result).OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
        Summarize(results, Environment.GetEnvironmentVariable("WASM_SPEC_REPORT"));

        // Every called function ran in the IL tier (compiled on its first call): the suite above exercised the
        // compiler, and it declined nothing (a decline would silently test the interpreter).
        results.Sum(r => r.Compiled).ShouldBeGreaterThan(1_000);
        results.Sum(r => r.CompileFallbacks).ShouldBe(0);
    }

    /// <summary>The same suite with the IL tier off: the interpreter alone must conform too (it is the fallback).</summary>
    [Fact]
    public void SpecSuite_InterpreterOnly_AtLeast99PercentPass()
    {
        var files = SpecTestLocator.Files();
        files.ShouldNotBeEmpty("spec tests not found: expected ../shared/wasm-spec beside the checkout");
        var options = new WasmEngineOptions { UseCompiler = false };
        var results = files.AsParallel().WithDegreeOfParallelism(2).Select(f => SpecTestRunner.Run(Root, f, options)).OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
        Summarize(results, reportPath: null);
        results.Sum(r => r.Compiled).ShouldBe(0);
    }

    /// <summary>The same suite on the plain translated form (no superinstructions): both paths must conform.</summary>
    [Fact]
    public void SpecSuite_WithoutInstructionFusion_AtLeast99PercentPass()
    {
        var files = SpecTestLocator.Files();
        files.ShouldNotBeEmpty("spec tests not found: expected ../shared/wasm-spec beside the checkout");
        var options = s_compileEverything with { FuseInstructions = false };
        var results = files.AsParallel().WithDegreeOfParallelism(2).Select(f => SpecTestRunner.Run(Root, f, options)).OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
        Summarize(results, reportPath: null);
        results.Sum(r => r.CompileFallbacks).ShouldBe(0);
    }

    /// <summary>
    /// The same suite with every compiled function split into regions of a few instructions each (IlCompiler.Regions, what
    /// the IL tier does with a function too large for one optimised method): every kind of region edge is crossed, and
    /// the suite must fail no more checks than with whole methods.
    /// </summary>
    [Fact]
    public void SpecSuite_SplitIntoRegions_NoMoreFailuresThanWholeMethods()
    {
        var files = SpecTestLocator.Files();
        files.ShouldNotBeEmpty("spec tests not found: expected ../shared/wasm-spec beside the checkout");
        var options = s_compileEverything with { CompileRegionIlBytes = 64 };
        var results = files.AsParallel().WithDegreeOfParallelism(2).Select(f => SpecTestRunner.Run(Root, f, options)).OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
        Summarize(results, reportPath: null);
        results.Sum(r => r.CompileFallbacks).ShouldBe(0);
        results.Sum(r => r.Split).ShouldBeGreaterThan(1_000);
        results.Sum(r => r.Failed).ShouldBe(files.Select(Result).Sum(r => r.Failed));
    }

    private static void Summarize(List<SpecFileResult> results, string? reportPath)
    {
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"{"file",-28} {"passed",7} {"failed",7} {"skipped",8} {"ms",7}");
        foreach (var r in results)
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"{r.Name,-28} {r.Passed,7} {r.Failed,7} {r.Skipped,8} {r.Elapsed.TotalMilliseconds,7:F0}");
        }

        var passed = results.Sum(r => r.Passed);
        var failed = results.Sum(r => r.Failed);
        var skipped = results.Sum(r => r.Skipped);
        var rate = 100.0 * passed / Math.Max(1, passed + failed);
        table.AppendLine(CultureInfo.InvariantCulture, $"{"TOTAL",-28} {passed,7} {failed,7} {skipped,8}");
        table.AppendLine(CultureInfo.InvariantCulture, $"pass rate of non-skipped checks: {rate:F2}%");
        table.AppendLine(CultureInfo.InvariantCulture, $"functions compiled to IL: {results.Sum(r => r.Compiled)}, declined by the compiler: {results.Sum(r => r.CompileFallbacks)}");
        table.AppendLine("skips by reason:");
        foreach (var group in results.SelectMany(r => r.Skips).GroupBy(s => s[(s.IndexOf(": ", StringComparison.Ordinal) + 2)..]))
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"  {group.Count(),5} x {group.Key}");
        }

        table.AppendLine("skipped checks:");
        foreach (var skip in results.SelectMany(r => r.Skips))
        {
            table.AppendLine("  " + skip);
        }

        var text = table.ToString();
        TestContext.Current.TestOutputHelper?.WriteLine(text);
        if (!string.IsNullOrEmpty(reportPath))
        {
            File.WriteAllText(reportPath, text + string.Join('\n', results.SelectMany(r => r.Failures)));
        }

        rate.ShouldBeGreaterThanOrEqualTo(99.0, text);
    }
}
