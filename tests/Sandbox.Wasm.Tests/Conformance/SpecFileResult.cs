namespace Sandbox.Wasm.Tests.Conformance;

/// <summary>Outcome of one spec command file.</summary>
internal sealed class SpecFileResult(string name)
{
    public string Name { get; } = name;

    public int Passed { get; set; }

    public int Failed { get; set; }

    public int Skipped { get; set; }

    /// <summary>Functions the engine compiled to IL while running this file (0 when the compiler is off).</summary>
    public int Compiled { get; set; }

    /// <summary>Functions the IL compiler declined (they ran interpreted).</summary>
    public int CompileFallbacks { get; set; }

    /// <summary>Compiled functions split into several methods (regions).</summary>
    public int Split { get; set; }

    public List<string> Failures { get; } = [];

    public List<string> Skips { get; } = [];

    public TimeSpan Elapsed { get; set; }
}
