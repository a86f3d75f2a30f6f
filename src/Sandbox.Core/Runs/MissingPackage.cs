using System.Text;
using System.Text.RegularExpressions;
using Sandbox.Core.Profiles;

namespace Sandbox.Core.Runs;

/// <summary>
/// Recognises a program that failed because it imported a package the image does not have, and says what an agent
/// needs to hear instead of trying <c>pip install</c> in a loop: the sandbox has no network, nothing can be installed,
/// and here is what is installed.
/// </summary>
public static partial class MissingPackage
{
    /// <summary>How many preinstalled packages the message names before it says how many more there are.</summary>
    private const int MaxNamed = 40;

    /// <summary>
    /// The message for a <c>runtime_error</c> whose stderr shows a missing module, or null. Only a name made of
    /// letters, digits, <c>_</c>, <c>.</c> and <c>-</c> is recognised: stderr is the program's to write, and the
    /// message echoes the name back to the agent.
    /// </summary>
    public static string? Message(string? language, string stderr, IReadOnlyList<PackageInfo>? installed)
    {
        var module = Find(language, stderr);
        if (module is null || installed?.Any(p => string.Equals(p.Name, module, StringComparison.OrdinalIgnoreCase)) == true)
        {
            return null;
        }

        var installer = language == "python" ? "pip install" : "npm install";
        var text = new StringBuilder()
            .Append("module '").Append(module).Append("' is not installed, and packages cannot be installed here: the sandbox has no network, so ")
            .Append(installer).Append(" fails. ");
        if (installed is null)
        {
            text.Append("Use the standard library.");
        }
        else if (installed.Count == 0)
        {
            text.Append("This profile has the standard library only.");
        }
        else
        {
            text.Append("Preinstalled: ").AppendJoin(", ", installed.Take(MaxNamed).Select(p => $"{p.Name} {p.Version}"));
            if (installed.Count > MaxNamed)
            {
                text.Append(" and ").Append(installed.Count - MaxNamed).Append(" more (GET /v1/languages lists them)");
            }

            text.Append("; or use the standard library.");
        }

        return text.ToString();
    }

    /// <summary>The top-level module a Python or JavaScript program failed to import, from its stderr; null for anything else.</summary>
    public static string? Find(string? language, string stderr)
    {
        var match = language switch
        {
            "python" => PythonMissing().Match(stderr),
            "javascript" => NodeMissing().Match(stderr),
            _ => Match.Empty,
        };
        if (!match.Success)
        {
            return null;
        }

        var name = match.Groups["name"].Value;
        // A Python submodule names its package first (matplotlib.foo → matplotlib); a scoped npm package keeps its scope.
        return language == "python" ? name.Split('.')[0] : name;
    }

    // The last line of a Python traceback: "ModuleNotFoundError: No module named 'x'" (also "ImportError: No module named x").
    [GeneratedRegex(@"^(?:ModuleNotFoundError|ImportError): No module named '?(?<name>[A-Za-z_][A-Za-z0-9_.]{0,99})'?\s*$", RegexOptions.Multiline | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex PythonMissing();

    // Node: "Error: Cannot find module 'x'" (require) or "Cannot find package 'x' imported from ..." (import); never a relative path.
    [GeneratedRegex(@"Cannot find (?:module|package) '(?<name>(?:@[a-z0-9][a-z0-9._-]{0,99}/)?[a-z0-9][a-z0-9._-]{0,99})'", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex NodeMissing();
}
