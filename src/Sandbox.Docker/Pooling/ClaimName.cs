using System.Globalization;
using System.Text.RegularExpressions;
using Sandbox.Docker.Client;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.Pooling;

/// <summary>
/// The name a warm-pool container takes when a run claims it: <c>sandbox-&lt;run id&gt;-&lt;step&gt;-claimed-&lt;unix ms&gt;</c>, and for a
/// compiled program's run step <c>-compiled-&lt;compile CPU ms&gt;</c> after it. Labels cannot change after create, and a rename
/// is one cheap call, so the name carries what start-up recovery needs to find the run's container, to time it from the
/// claim rather than from the container's start, and to charge its compile step's CPU (a cold run step has it in its label).
/// </summary>
public static partial class ClaimName
{
    public static string Format(string runId, long claimedAtUnixMs, string step = "run", long? compileCpuMs = null) =>
        string.Create(CultureInfo.InvariantCulture, $"sandbox-{runId}-{step}-claimed-{claimedAtUnixMs}{(compileCpuMs is { } cpu ? $"-compiled-{cpu}" : "")}");

    /// <summary>The run, the claim time and the compile step's CPU (if any) of a claimed pool container; null for any other container.</summary>
    public static (string RunId, DateTimeOffset ClaimedAt, long? CompileCpuMs)? Parse(ContainerSummary container)
    {
        ArgumentNullException.ThrowIfNull(container);
        if (container.Labels?.ContainsKey(SandboxLabels.Pool) != true)
        {
            return null;
        }

        foreach (var name in container.Names ?? [])
        {
            if (Pattern().Match(name) is { Success: true } m
                && long.TryParse(m.Groups["at"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
            {
                long? cpu = m.Groups["cpu"].Success && long.TryParse(m.Groups["cpu"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var c) ? c : null;
                return (m.Groups["run"].Value, DateTimeOffset.FromUnixTimeMilliseconds(ms), cpu);
            }
        }

        return null;
    }

    [GeneratedRegex(@"^/?sandbox-(?<run>[A-Za-z0-9_.-]+)-(?:run|compile)-claimed-(?<at>[0-9]{1,15})(?:-compiled-(?<cpu>[0-9]{1,15}))?$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Pattern();
}
