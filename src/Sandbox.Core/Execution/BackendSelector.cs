using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;

namespace Sandbox.Core.Execution;

/// <summary>
/// Which profile runs a request when a backend is forced or down. The convention is one name per pair:
/// the language's default profile (<c>python</c>), and <c>&lt;language&gt;-&lt;backend&gt;</c> (<c>python-wasm</c>) for the other backend.
/// </summary>
public static class BackendSelector
{
    /// <summary>The conventional profile name of <paramref name="language"/> on <paramref name="backend"/>, such as <c>python-wasm</c>.</summary>
    public static string ProfileName(string language, string backend) => $"{language}-{backend}";

    /// <summary>The profile that runs <paramref name="language"/> on <paramref name="backend"/>, or null when there is none.</summary>
    public static Profile? ForBackend(ProfileSet profiles, string language, string backend)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        if (profiles.TryGet(language, out var byLanguage) && byLanguage.Language == language && byLanguage.Backend == backend)
        {
            return byLanguage;
        }

        return profiles.TryGet(ProfileName(language, backend), out var named) && named.Language == language && named.Backend == backend
            ? named
            : null;
    }

    /// <summary>
    /// When the plan's backend is down and the caller chose neither a profile nor a backend, the plan on
    /// the language's <c>-wasm</c> profile (same run id, re-validated so the caller's limits still only tighten); else null.
    /// </summary>
    /// <remarks>
    /// <paramref name="mayUse"/> says whether the caller may use a profile (its allow-list; null for the operator's own CLI).
    /// A fallback it may not use is not taken: the run stays on the backend that is down, whose answer says so, rather than
    /// moving to a profile the caller's key then refuses without a word about Docker.
    /// </remarks>
    public static RunPlan? Fallback(RunPlan plan, ProfileSet profiles, IReadOnlySet<string> unavailableBackends, Func<Profile, BackendMinimums>? minimums = null, Func<string, bool>? mayUse = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(unavailableBackends);
        if (!unavailableBackends.Contains(plan.Backend) || plan.Request.Profile is not null || plan.Request.Backend is not null)
        {
            return null;
        }

        if (plan.Backend != BackendNames.Docker || unavailableBackends.Contains(BackendNames.Wasm))
        {
            return null;
        }

        if (ForBackend(profiles, plan.Request.Language, BackendNames.Wasm) is not { } wasm || (mayUse is not null && !mayUse(wasm.Name)))
        {
            return null;
        }

        var (fallback, _) = RunRequestValidator.Plan(plan.Request with { Profile = wasm.Name }, profiles, plan.RunId, minimums);
        return fallback;
    }
}
