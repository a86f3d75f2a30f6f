using System.Globalization;
using System.Text.RegularExpressions;
using Sandbox.Docker.Client;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.Pooling;

/// <summary>
/// The name a warm-pool container takes when a run claims it: <c>sandbox-&lt;run id&gt;-run-claimed-&lt;unix ms&gt;</c>.
/// Labels cannot change after create, and a rename is one cheap call, so the name carries what start-up recovery needs
/// to find the run's container and to time it from the claim rather than from the container's start.
/// </summary>
public static partial class ClaimName
{
    public static string Format(string runId, long claimedAtUnixMs) =>
        string.Create(CultureInfo.InvariantCulture, $"sandbox-{runId}-run-claimed-{claimedAtUnixMs}");

    /// <summary>The run and the claim time of a claimed pool container; null for any other container.</summary>
    public static (string RunId, DateTimeOffset ClaimedAt)? Parse(ContainerSummary container)
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
                return (m.Groups["run"].Value, DateTimeOffset.FromUnixTimeMilliseconds(ms));
            }
        }

        return null;
    }

    [GeneratedRegex(@"^/?sandbox-(?<run>[A-Za-z0-9_.-]+)-run-claimed-(?<at>[0-9]{1,15})$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Pattern();
}
