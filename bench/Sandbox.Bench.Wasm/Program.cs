using System.Globalization;
using Sandbox.Bench.Wasm;

// make bench-wasm: each case under our engine (in this process) and under Node's V8 (node:wasi), in one run.
// "run" is the median of N timed runs after one untimed warm-up, module compiled once; "compile" is decode +
// validate + translate (ours) or WebAssembly.Module (node). Prints numbers; asserts nothing, and a case that
// cannot run says why and the bench goes on.
// Arguments: [runs] [interpreter] — "interpreter" turns the IL tier off, for comparing the two tiers.
// Ours runs with the .NET runtime tuned as a worker's (AsTheWorker): the bench starts itself again with those settings.
if (!AsTheWorker.IsApplied)
{
    return AsTheWorker.Rerun(args);
}

var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
// Also threshold=N, loop=N, fuel=N, maxsize=N, work=N and region=N set the IL tier's CompileThreshold, CompileLoopThreshold,
// CompileFuelThreshold, CompileMaxInstructions, CompileMaxWork and CompileRegionIlBytes (for tuning); only=TEXT runs just the cases whose name contains TEXT; nonode skips Node
// (for timing our engine alone, e.g. two builds against each other).
var defaults = new Sandbox.Wasm.WasmEngineOptions();
var options = defaults with
{
    UseCompiler = !args.Contains("interpreter"),
    CompileThreshold = Setting("threshold=") ?? defaults.CompileThreshold,
    CompileMaxInstructions = Setting("maxsize=") ?? defaults.CompileMaxInstructions,
    CompileLoopThreshold = Setting("loop=") ?? defaults.CompileLoopThreshold,
    CompileFuelThreshold = Setting("fuel=") ?? defaults.CompileFuelThreshold,
    CompileMaxWork = Setting("work=") ?? defaults.CompileMaxWork,
    CompileRegionIlBytes = Setting("region=") ?? defaults.CompileRegionIlBytes,
};
var warmups = Math.Max(1, Setting("warmup=") ?? 1);
var repo = FindRepositoryRoot();
var programs = Path.Combine(repo, "tests", "Sandbox.Wasm.Tests", "Differential", "Programs");
var runner = Path.Combine(repo, "tests", "Sandbox.Wasm.Tests", "Differential", "run-wasi.mjs");
var python = Path.Combine(repo, "images", "python-wasm", "build", "out");
var pythonPreopens = new Dictionary<string, string> { ["/usr/local"] = Path.Combine(python, "usr-local") };
const string PythonLoop = "t = 0\nfor i in range(300000):\n    t = (t + i * i) % 1000003\nprint(t)\n";

var cases = new[]
{
    new BenchCase("sha256 (C), 4 MiB", Path.Combine(programs, "sha256.wasm"), ["4"], new Dictionary<string, string>(),
        "3d681903319d6e6e17358c9eb7806debfb55e60ab0d4ae24b96616c64164d87a\n"),
    new BenchCase("prime count (C), n=500000", Path.Combine(programs, "primes.wasm"), ["500000"], new Dictionary<string, string>(),
        "primes below 500000: 41538 (sieve 41538)\n"),
    // Kernels of other shapes, so the engine is not tuned to two loops: a hash over a large buffer, f64 matrix
    // multiply, a branchy switch-dispatch interpreter, and memcpy/memmove of varied sizes (bulk memory).
    new BenchCase("hash (C), CRC-32 + FNV, 16 MiB", Path.Combine(programs, "hashbuf.wasm"), ["16"], new Dictionary<string, string>(),
        "crc32 4b9a595b fnv1a 0cdf892bd4a17f03\n"),
    new BenchCase("matmul (C), f64 200x200", Path.Combine(programs, "matmul.wasm"), ["200"], new Dictionary<string, string>(),
        "n=200 sum=7.781250 weighted=-17.500000\n"),
    new BenchCase("bytecode switch (C), 20000", Path.Combine(programs, "bytecode.wasm"), ["20000"], new Dictionary<string, string>(),
        "bytecode 1323242640\n"),
    new BenchCase("memcpy (C), 200 rounds", Path.Combine(programs, "memcpy.wasm"), ["200"], new Dictionary<string, string>(),
        "memcpy 1505477437\n"),
    new BenchCase("CPython print(1+1)", Path.Combine(python, "python.wasm"), ["-c", "print(1+1)"], pythonPreopens, "2\n"),
    new BenchCase("CPython loop, 300k iterations", Path.Combine(python, "python.wasm"), ["-c", PythonLoop], pythonPreopens, "266000\n"),
};

var node = args.Contains("nonode") ? null : NodeRunner.Find();
Console.WriteLine($"bench-wasm: {runs} timed runs per case after {(warmups == 1 ? "one warm-up" : $"{warmups} warm-ups")}; median shown; ours: {(options.UseCompiler ? $"IL tier (threshold {options.CompileThreshold}, loop {options.CompileLoopThreshold}, fuel {options.CompileFuelThreshold}, max {options.CompileMaxInstructions})" : "interpreter only")}; node: {node ?? "not found"}");
Console.WriteLine($"  ours: {AsTheWorker.Describe()}");
Console.WriteLine("  ours first = compile + first run in this process (JIT of the engine and, in the IL tier, of each called guest function)");
Console.WriteLine("  cpu = process CPU time per measured run (median, compiler threads included), steadier than wall time on a loaded machine");
Console.WriteLine($"{"case",-32} {"ours compile",13} {"ours first",11} {"ours run",11} {"ours cpu",11} {"node compile",13} {"node run",11} {"node cpu",11} {"node process",13} {"ours/node run",14} {"ours/node cpu",14}");
var only = args.FirstOrDefault(a => a.StartsWith("only=", StringComparison.Ordinal))?["only=".Length..];
foreach (var benchCase in cases.Where(c => only is null || c.Name.Contains(only, StringComparison.OrdinalIgnoreCase)))
{
    if (!File.Exists(benchCase.WasmPath))
    {
        Console.WriteLine($"{benchCase.Name,-32} skipped: {benchCase.WasmPath} is missing (run `make guests`)");
        continue;
    }

    var ours = Measure(() => OurEngineRunner.Measure(benchCase, runs, warmups, options), out var oursProblem);
    string? nodeProblem = null;
    var reference = node is null ? null : Measure(() => NodeRunner.Measure(node, runner, benchCase, runs, warmups), out nodeProblem);
    var ratio = ours is not null && reference is not null ? $"{ours.MedianMs / reference.MedianMs,13:F1}x" : $"{"-",14}";
    var cpuRatio = ours?.MedianCpuMs is { } oursCpu && reference?.MedianCpuMs is { } nodeCpu ? $"{oursCpu / nodeCpu,13:F1}x" : $"{"-",14}";
    Console.WriteLine(
        $"{benchCase.Name,-32} {Ms(ours?.CompileMs),13} {Ms(ours?.FirstMs),11} {Ms(ours?.MedianMs),11} {Ms(ours?.MedianCpuMs),11} {Ms(reference?.CompileMs),13} {Ms(reference?.MedianMs),11} {Ms(reference?.MedianCpuMs),11} {Ms(reference?.ProcessMs),13} {ratio} {cpuRatio}");
    if (oursProblem is not null)
    {
        Console.WriteLine($"{"",-32} ours: cannot run yet: {oursProblem}");
    }

    if (nodeProblem is not null)
    {
        Console.WriteLine($"{"",-32} node: {nodeProblem}");
    }
}

return 0;

int? Setting(string prefix) =>
    args.FirstOrDefault(a => a.StartsWith(prefix, StringComparison.Ordinal)) is { } arg ? int.Parse(arg[prefix.Length..], CultureInfo.InvariantCulture) : null;

static string Ms(double? value) => value is null ? "-" : value.Value.ToString("F1", CultureInfo.InvariantCulture) + " ms";

static BenchTiming? Measure(Func<BenchTiming> measure, out string? problem)
{
    problem = null;
    try
    {
        return measure();
    }
    catch (Exception e) when (e is NotSupportedException or InvalidOperationException or Sandbox.Wasm.WasmException)
    {
        problem = e.Message;
        return null;
    }
}

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Sandbox.sln")))
        {
            return dir.FullName;
        }
    }

    return Directory.GetCurrentDirectory();
}
