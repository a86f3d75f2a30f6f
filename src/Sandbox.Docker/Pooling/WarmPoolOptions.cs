using System.Globalization;
using Sandbox.Core.Runs;

namespace Sandbox.Docker.Pooling;

/// <summary>
/// Sizes and budget of the Docker backend's warm pool (bound from <c>Sandbox:WarmPool</c>). Each entry of
/// <see cref="Sizes"/> keeps that many containers of one profile created, started and waiting for their program.
/// </summary>
public sealed record WarmPoolOptions
{
    /// <summary>The configuration section under the service's own.</summary>
    public const string Section = "WarmPool";

    /// <summary>
    /// Idle containers per profile, by profile name; <c>name@runtime</c> (<c>python@runsc</c>) keeps containers of that
    /// profile under another runtime. Python, the language agents call most, keeps two by default; others none.
    /// </summary>
    public Dictionary<string, int> Sizes { get; init; } = new(StringComparer.Ordinal) { ["python"] = 2 };

    /// <summary>The same budget with no pool at all (<c>sandbox run</c>, tests, the bench's cold rows).</summary>
    public static WarmPoolOptions Off { get; } = new() { Sizes = new(StringComparer.Ordinal), MaxContainers = 0 };

    /// <summary>Idle (and being made) pool containers at most, over every profile; 0 turns the pool off.</summary>
    public int MaxContainers { get; init; } = 8;

    /// <summary>The memory limits of idle pool containers summed, at most: the host's budget for containers no run uses yet.</summary>
    public long MaxMemoryBytes { get; init; } = 2L * 1024 * 1024 * 1024;

    /// <summary>How long a container may wait unclaimed before it is replaced by a fresh one.</summary>
    public TimeSpan MaxIdle { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How often each pool asks which image its profile's tag names now, so a rebuilt image (<c>make images</c>) is followed
    /// without a restart: runs pin the new image, and a pool of the old one would never be claimed again.
    /// </summary>
    public TimeSpan RepinInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Pool containers made at once in the background: refill keeps pace under load without crowding the daemon.</summary>
    public int RefillConcurrency { get; init; } = 2;

    /// <summary>Every problem with the settings, each naming its key under <paramref name="prefix"/>; <paramref name="profiles"/> are the Docker profiles' names.</summary>
    public IReadOnlyList<FieldError> Validate(string prefix, IReadOnlySet<string> profiles)
    {
        var errors = new List<FieldError>();
        void Check(bool ok, string key, string message)
        {
            if (!ok)
            {
                errors.Add(new FieldError($"{prefix}:{key}", message));
            }
        }

        Check(MaxContainers is >= 0 and <= 256, nameof(MaxContainers), $"is {MaxContainers}; use 0 (no pool) to 256");
        Check(MaxMemoryBytes >= 0, nameof(MaxMemoryBytes), $"is {MaxMemoryBytes}; use zero or more bytes");
        Check(MaxIdle >= TimeSpan.FromSeconds(10) && MaxIdle <= TimeSpan.FromHours(24), nameof(MaxIdle), $"is {MaxIdle}; use 00:00:10 to 1.00:00:00");
        Check(RepinInterval >= TimeSpan.FromSeconds(1) && RepinInterval <= TimeSpan.FromHours(1), nameof(RepinInterval), $"is {RepinInterval}; use 00:00:01 to 01:00:00");
        Check(RefillConcurrency is >= 1 and <= 16, nameof(RefillConcurrency), $"is {RefillConcurrency}; use 1 to 16");
        foreach (var (key, size) in Sizes)
        {
            var (profile, runtime) = Split(key);
            Check(size is >= 0 and <= 64, $"{nameof(Sizes)}:{key}", string.Create(CultureInfo.InvariantCulture, $"is {size}; use 0 to 64"));
            Check(profiles.Contains(profile), $"{nameof(Sizes)}:{key}", $"names no Docker profile '{profile}'; use one of {string.Join(", ", profiles.Order(StringComparer.Ordinal))}");
            Check(runtime is null or "runc" or "runsc" or "crun", $"{nameof(Sizes)}:{key}", $"names the runtime '{runtime}'; use runc, runsc or crun after '@'");
        }

        return errors;
    }

    /// <summary><c>python@runsc</c> as (python, runsc); <c>python</c> as (python, null: the profile's own runtime).</summary>
    public static (string Profile, string? Runtime) Split(string key)
    {
        var at = key.IndexOf('@', StringComparison.Ordinal);
        return at < 0 ? (key, null) : (key[..at], key[(at + 1)..]);
    }
}
