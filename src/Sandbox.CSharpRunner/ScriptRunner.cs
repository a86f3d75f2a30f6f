using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace Sandbox.CSharpRunner;

/// <summary>
/// Compiles and runs one script and maps the outcome to an exit code (see <see cref="ExitCodes"/>).
/// The script's own output goes straight to the console; only the runner's diagnostics go to
/// <c>stderr</c>. A value left by the script's last expression is not printed (like csi, not a REPL).
/// </summary>
internal static class ScriptRunner
{
    private static readonly string[] s_imports =
    [
        "System", "System.Linq", "System.Collections.Generic", "System.Text", "System.IO", "System.Threading.Tasks",
    ];

    // Reference assemblies by name: the facades (System.Runtime...) as well as the implementations,
    // so types forwarded between them resolve. All come from the runner's own runtime folder.
    private static readonly string[] s_references =
    [
        "System.Runtime", "System.Private.CoreLib", "System.Console", "System.Linq", "System.Collections",
        "System.Collections.Concurrent", "System.Text.RegularExpressions", "System.Runtime.Numerics", "System.Memory",
        "System.Threading", "System.Threading.Tasks", "System.Text.Json", "System.Linq.Expressions", "System.ObjectModel",
        "System.ComponentModel.Primitives", "System.Runtime.Extensions", "System.IO", "netstandard",
    ];

    public static async Task<int> RunAsync(string code, string fileName, TextWriter stderr)
    {
        var refused = DirectiveGuard.FindRefused(code, fileName);
        if (refused.Count > 0)
        {
            foreach (var message in refused)
            {
                await stderr.WriteLineAsync(message);
            }

            return ExitCodes.CompileError;
        }

        var options = ScriptOptions.Default
            .WithFilePath(fileName)
            .WithImports(s_imports)
            .AddReferences(s_references.Select(name => Assembly.Load(new AssemblyName(name))))
            .WithSourceResolver(RefusingSourceResolver.Instance)
            .WithMetadataResolver(RefusingMetadataResolver.Instance)
            .WithOptimizationLevel(OptimizationLevel.Release)
            .WithEmitDebugInformation(false);

        var script = CSharpScript.Create(code, options);
        var errors = script.Compile().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0)
        {
            foreach (var error in errors)
            {
                await stderr.WriteLineAsync(error.ToString());
            }

            return ExitCodes.CompileError;
        }

        // catchException: every exception the script throws becomes state.Exception instead of
        // unwinding through Roslyn's frames; the runner's own failures still propagate.
        var state = await script.RunAsync(globals: null, catchException: _ => true);
        if (state.Exception is { } exception)
        {
            await stderr.WriteLineAsync(Describe(exception));
            return ExitCodes.RuntimeError;
        }

        return ExitCodes.Success;
    }

    /// <summary>"Type: message", the stack, and each inner exception the same way.</summary>
    internal static string Describe(Exception exception)
    {
        if (exception is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            exception = aggregate.InnerExceptions[0];
        }

        return exception.ToString();
    }
}
