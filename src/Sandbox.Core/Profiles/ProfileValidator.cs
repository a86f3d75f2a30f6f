using System.Text.RegularExpressions;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;

namespace Sandbox.Core.Profiles;

/// <summary>Validates profiles once, at start-up, and reports every error at once with its field path.</summary>
internal static partial class ProfileValidator
{
    private const long MiB = 1024 * 1024;

    public static IReadOnlyList<FieldError> Validate(IReadOnlyDictionary<string, Profile> profiles)
    {
        var errors = new List<FieldError>();
        if (profiles.Count == 0)
        {
            errors.Add(new FieldError("profiles", "must define at least one profile"));
        }

        foreach (var (name, profile) in profiles.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            ValidateOne($"profiles.{name}", name, profile, errors);
        }

        return errors;
    }

    private static void ValidateOne(string at, string name, Profile p, List<FieldError> errors)
    {
        if (!NamePattern().IsMatch(name))
        {
            errors.Add(new FieldError(at, "the profile name must be lowercase letters, digits, '.', '_' or '-' (at most 64)"));
        }

        if (p.Limits is null || p.SourceFile is null || p.Language is null)
        {
            // required members can still arrive as JSON null.
            errors.Add(new FieldError(at, "needs 'language', 'sourceFile' and 'limits'"));
        }

        if (string.IsNullOrWhiteSpace(p.Language) || !NamePattern().IsMatch(p.Language))
        {
            errors.Add(new FieldError($"{at}.language", "must be a lowercase language name such as 'python'"));
        }

        if (p.Backend is not (BackendNames.Docker or BackendNames.Wasm))
        {
            errors.Add(new FieldError($"{at}.backend", $"must be '{BackendNames.Docker}' or '{BackendNames.Wasm}' (got '{p.Backend}')"));
        }

        if (!RuntimeNames.IsContainer(p.Runtime))
        {
            errors.Add(new FieldError($"{at}.runtime", $"must be {RuntimeNames.ContainerList} (runsc for gVisor) (got '{p.Runtime}')"));
        }

        if (p.Backend == BackendNames.Docker && string.IsNullOrWhiteSpace(p.Image))
        {
            errors.Add(new FieldError($"{at}.image", "must name the image, such as 'sandbox/python:latest'"));
        }

        if (p.Backend == BackendNames.Docker)
        {
            ValidateCommand($"{at}.command", p.Command, errors);
            if (p.Prestart is not null)
            {
                ValidateCommand($"{at}.prestart", p.Prestart, errors);
            }
        }
        else if (p.Prestart is not null)
        {
            errors.Add(new FieldError($"{at}.prestart", "is for the docker backend only"));
        }

        if (p.Backend == BackendNames.Wasm)
        {
            ValidateWasm(at, p, errors);
        }

        if (RelativePath.Check(p.SourceFile) is { } sourceProblem)
        {
            errors.Add(new FieldError($"{at}.sourceFile", sourceProblem));
        }

        ValidateLimits($"{at}.limits", p.Limits, errors);

        if (p.Compile is { } compile)
        {
            ValidateCommand($"{at}.compile.command", compile.Command, errors);
            if (RelativePath.Check(compile.Artifact) is { } artifactProblem)
            {
                errors.Add(new FieldError($"{at}.compile.artifact", artifactProblem));
            }

            ValidateLimits($"{at}.compile.limits", compile.Limits, errors);
        }

        foreach (var key in p.Environment.Keys)
        {
            if (!EnvironmentNamePattern().IsMatch(key))
            {
                errors.Add(new FieldError($"{at}.environment.{key}", "must be a variable name of letters, digits and '_' not starting with a digit"));
            }
        }

        Positive($"{at}.maxCodeBytes", p.EffectiveMaxCodeBytes, 16 * MiB, errors);
        Positive($"{at}.maxStdinBytes", p.EffectiveMaxStdinBytes, 64 * MiB, errors);
        Positive($"{at}.maxFilesBytes", p.EffectiveMaxFilesBytes, 64 * MiB, errors);
        // The returned files are held in memory and kept in the store with the run: bounded like the inputs.
        Range($"{at}.artifacts.maxFiles", p.Artifacts.MaxFiles, 0, 1024, errors); // 0 turns artifacts off for the profile
        Positive($"{at}.artifacts.maxFileBytes", p.Artifacts.MaxFileBytes, 64 * MiB, errors);
        Positive($"{at}.artifacts.maxTotalBytes", p.Artifacts.MaxTotalBytes, 64 * MiB, errors);
    }

    private static void ValidateWasm(string at, Profile p, List<FieldError> errors)
    {
        // For the language 'wasm' the caller's code is the module; every other wasm profile runs a named guest.
        if (p.Language == LanguageNames.Wasm)
        {
            if (p.Module is not null)
            {
                errors.Add(new FieldError($"{at}.module", "must be absent for the language 'wasm': the caller's code is the module"));
            }
        }
        else if (string.IsNullOrWhiteSpace(p.Module))
        {
            errors.Add(new FieldError($"{at}.module", "must name the guest module file, such as 'python.wasm' (relative to the profiles file)"));
        }
        else if (RelativePath.Check(p.Module) is { } moduleProblem)
        {
            errors.Add(new FieldError($"{at}.module", "the module path " + moduleProblem));
        }

        if (p.Fuel is { } fuel && fuel < 1)
        {
            errors.Add(new FieldError($"{at}.fuel", $"must be a positive number of WebAssembly instructions, or absent for none (got {fuel})"));
        }

        // Whether the module and the preopened folders exist is checked when a run needs them (sandbox_error,
        // "run make guests") and by 'sandbox doctor': a guest not built yet must not stop every other profile loading.

        foreach (var (guest, host) in p.Preopens)
        {
            if (!GuestPathPattern().IsMatch(guest) || guest.Split('/').Any(s => s is "." or "..") || guest == "/tmp" || guest.StartsWith("/tmp/", StringComparison.Ordinal))
            {
                errors.Add(new FieldError($"{at}.preopens.{guest}", "the guest path must be absolute and plain, such as '/usr/local', and not /tmp (the guest's own)"));
            }

            // Host folders stay relative to the profiles file so a profile cannot point a guest at arbitrary host paths by accident.
            if (RelativePath.Check(host) is { } hostProblem)
            {
                errors.Add(new FieldError($"{at}.preopens.{guest}", "the host folder " + hostProblem));
            }
        }
    }

    private static void ValidateCommand(string at, IReadOnlyList<string>? command, List<FieldError> errors)
    {
        if (command is null || command.Count == 0 || string.IsNullOrWhiteSpace(command[0]))
        {
            errors.Add(new FieldError(at, "must be a non-empty argv list such as [\"python3\", \"main.py\"]"));
        }
        else if (command.Any(a => a.Contains('\0', StringComparison.Ordinal)))
        {
            errors.Add(new FieldError(at, "must not contain NUL characters"));
        }
        else if (command[0].StartsWith('-'))
        {
            // sandbox-entry reads leading '--' arguments as its own options.
            errors.Add(new FieldError(at, "must start with the program to run, not an option"));
        }
    }

    private static void ValidateLimits(string at, ResourceLimits? limits, List<FieldError> errors)
    {
        if (limits is null)
        {
            errors.Add(new FieldError(at, "is required"));
            return;
        }

        // Lower bounds keep a profile usable (Docker refuses memory below 6 MiB); upper bounds keep a
        // typo such as an extra zero from handing one run the whole machine.
        Range($"{at}.{LimitNames.WallTimeMs}", limits.WallTimeMs, 100, 3_600_000, errors);
        Range($"{at}.{LimitNames.CpuTimeMs}", limits.CpuTimeMs, 10, 3_600_000, errors);
        Range($"{at}.{LimitNames.MemoryBytes}", limits.MemoryBytes, 16 * MiB, 16 * 1024 * MiB, errors);
        Range($"{at}.{LimitNames.Pids}", limits.Pids, 1, 4096, errors);
        Range($"{at}.{LimitNames.StdoutBytes}", limits.StdoutBytes, 1, 256 * MiB, errors);
        Range($"{at}.{LimitNames.StderrBytes}", limits.StderrBytes, 1, 256 * MiB, errors);
        Range($"{at}.{LimitNames.FileSizeBytes}", limits.FileSizeBytes, 1, 4 * 1024 * MiB, errors);
        Range($"{at}.{LimitNames.TmpBytes}", limits.TmpBytes, MiB, 4 * 1024 * MiB, errors);
    }

    private static void Positive(string at, long value, long max, List<FieldError> errors) => Range(at, value, 1, max, errors);

    private static void Range(string at, long value, long min, long max, List<FieldError> errors)
    {
        if (value < min || value > max)
        {
            errors.Add(new FieldError(at, $"must be between {min} and {max} (got {value})"));
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^(/[A-Za-z0-9._-]+)+$")]
    private static partial Regex GuestPathPattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvironmentNamePattern();
}
