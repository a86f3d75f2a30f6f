using System.Globalization;
using System.Text.RegularExpressions;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Docker.IntegrationTests.Support;

namespace Sandbox.Docker.IntegrationTests.Backend;

/// <summary>
/// Hostile programs as first-class fixtures (<c>Fixtures/Hostile</c>): each file names its attack and, in
/// its header, the exact status expected (<c>@expect</c>, and <c>@expect-runsc</c> where gVisor contains the
/// attack differently), optional tighter limits (<c>@limits</c>) and the exact stdout (<c>@stdout</c>).
/// Each one runs for real in the sandbox.
/// </summary>
[Trait("Category", "Integration")]
public sealed partial class HostileSnippetTests(SandboxFixture sandbox)
{
    private static readonly Dictionary<string, string> s_languages = new(StringComparer.Ordinal)
    {
        [".py"] = "python", [".js"] = "javascript", [".sh"] = "bash", [".c"] = "c", [".csx"] = "csharp",
    };

    public static TheoryData<string> Snippets() =>
        [.. Directory.EnumerateFiles(Path.Join(RepositoryPaths.Fixtures, "Hostile")).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Snippets))]
    public async Task Run_HostileSnippet_EndsWithItsExpectedStatusAndLeavesNothing(string name)
    {
        var path = Path.Join(RepositoryPaths.Fixtures, "Hostile", name);
        var code = await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken);
        var header = Header.Parse(code);

        var result = await sandbox.RunAsync(
            new RunRequest { Language = s_languages[Path.GetExtension(name)], Code = code, Limits = header.Limits, Purpose = "hostile fixture " + name },
            TestContext.Current.CancellationToken);

        result.Status.ToWireName().ShouldBe(header.Expect, $"{name}: {result.Message}\nstdout: {Cut(result.Stdout)}\nstderr: {Cut(result.Stderr)}");
        if (header.Stdout is { } expected && !header.RunscDiffers)
        {
            result.Stdout.TrimEnd('\n').ShouldBe(expected, $"{name}\nstderr: {Cut(result.Stderr)}");
        }

        if (result.Status.IsLimitKill())
        {
            result.LimitBreach.ShouldNotBeNull($"{name}: a limit kill names its limit");
        }

        (await sandbox.LeftoversAsync(result.RunId)).ShouldBeEmpty($"{name}: its containers were removed");
    }

    private static string Cut(string text) => text.Length > 800 ? text[..800] + "…" : text;

    private sealed partial record Header(string Expect, string? Stdout, LimitOverrides? Limits, bool RunscDiffers)
    {
        public static Header Parse(string code)
        {
            string? expect = null, expectRunsc = null, stdout = null;
            LimitOverrides? limits = null;
            foreach (Match m in Directive().Matches(code))
            {
                var value = m.Groups["value"].Value.Trim();
                switch (m.Groups["key"].Value)
                {
                    case "expect": expect = value; break;
                    case "expect-runsc": expectRunsc = value; break;
                    case "stdout": stdout = value; break;
                    case "limits": limits = ParseLimits(value); break;
                }
            }

            if (expect is null)
            {
                throw new InvalidOperationException("fixture has no @expect line");
            }

            var runsc = SandboxFixture.Runtime == "runsc" && expectRunsc is not null;
            return new Header(runsc ? expectRunsc! : expect, stdout, limits, runsc);
        }

        private static LimitOverrides ParseLimits(string text)
        {
            var values = text.Split(',', StringSplitOptions.TrimEntries)
                .Select(pair => pair.Split('='))
                .ToDictionary(kv => kv[0], kv => long.Parse(kv[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
            long? Get(string key) => values.TryGetValue(key, out var v) ? v : null;
            return new LimitOverrides
            {
                WallTimeMs = Get(LimitNames.WallTimeMs),
                CpuTimeMs = Get(LimitNames.CpuTimeMs),
                MemoryBytes = Get(LimitNames.MemoryBytes),
                StdoutBytes = Get(LimitNames.StdoutBytes),
            };
        }

        [GeneratedRegex(@"^\s*(#|//)\s*@(?<key>expect-runsc|expect|stdout|limits)\s+(?<value>.*)$", RegexOptions.Multiline)]
        private static partial Regex Directive();
    }
}
