using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Sandbox.CSharpRunner;

/// <summary>
/// Finds <c>#r</c> and <c>#load</c> directives before compiling: either would reach outside the
/// script (an assembly or a file of the image), so each is a compile error with its location.
/// </summary>
internal static class DirectiveGuard
{
    /// <summary>One message per refused directive, formatted like the compiler's own diagnostics.</summary>
    public static IReadOnlyList<string> FindRefused(string code, string fileName)
    {
        var options = new CSharpParseOptions(kind: SourceCodeKind.Script);
        var tree = CSharpSyntaxTree.ParseText(SourceText.From(code), options, fileName);
        var root = tree.GetCompilationUnitRoot();
        var directives = root.GetReferenceDirectives().Select(d => (Name: "#r", Node: (DirectiveTriviaSyntax)d))
            .Concat(root.GetLoadDirectives().Select(d => (Name: "#load", Node: (DirectiveTriviaSyntax)d)))
            .OrderBy(d => d.Node.SpanStart);
        var refused = new List<string>();
        foreach (var (what, node) in directives)
        {
            var position = node.GetLocation().GetLineSpan().StartLinePosition;
            refused.Add($"{fileName}({position.Line + 1},{position.Character + 1}): error SANDBOX001: " +
                $"{what} is not allowed in the sandbox; scripts run with the default framework references " +
                "and their own text only");
        }

        return refused;
    }
}
