using System.Text;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;

namespace Sandbox.Core.Runs;

/// <summary>
/// Checks a request against the profiles and turns it into a plan. Every problem is reported at once,
/// each naming its field; a request with any problem is rejected and nothing runs.
/// </summary>
public static class RunRequestValidator
{
    /// <summary>Longest accepted <c>purpose</c>, in characters.</summary>
    public const int MaxPurposeLength = 1000;

    /// <summary>Most extra input files in one request.</summary>
    public const int MaxFiles = 64;

    /// <summary>Ceiling on code size before a profile is known, so a huge request is refused cheaply.</summary>
    public const long AbsoluteMaxCodeBytes = 16 * 1024 * 1024;

    public static (RunPlan? Plan, IReadOnlyList<FieldError> Errors) Plan(RunRequest request, ProfileSet profiles, string runId)
    {
        var errors = new List<FieldError>();
        var profile = ResolveProfile(request, profiles, errors);

        var maxCode = profile?.EffectiveMaxCodeBytes ?? AbsoluteMaxCodeBytes;
        if (string.IsNullOrWhiteSpace(request.Code))
        {
            errors.Add(new FieldError("code", "must not be empty"));
        }
        else if (Encoding.UTF8.GetByteCount(request.Code) is var codeBytes && codeBytes > maxCode)
        {
            errors.Add(new FieldError("code", $"is {codeBytes} bytes; the most allowed is {maxCode}"));
        }

        var maxStdin = profile?.EffectiveMaxStdinBytes ?? AbsoluteMaxCodeBytes;
        if (request.Stdin is { } stdin && Encoding.UTF8.GetByteCount(stdin) is var stdinBytes && stdinBytes > maxStdin)
        {
            errors.Add(new FieldError("stdin", $"is {stdinBytes} bytes; the most allowed is {maxStdin}"));
        }

        CheckFiles(request.Files, profile, errors);

        if (request.Purpose is { Length: > MaxPurposeLength } purpose)
        {
            errors.Add(new FieldError("purpose", $"is {purpose.Length} characters; the most allowed is {MaxPurposeLength}"));
        }

        var runtime = profile?.Runtime ?? RuntimeNames.Runc;
        if (request.Runtime is { } requestedRuntime)
        {
            if (requestedRuntime is not (RuntimeNames.Runc or RuntimeNames.Runsc))
            {
                errors.Add(new FieldError("runtime", $"must be '{RuntimeNames.Runc}' or '{RuntimeNames.Runsc}' (got '{requestedRuntime}')"));
            }
            else if (profile is not null && !RuntimeNames.IsAtLeastAsStrong(requestedRuntime, profile.Runtime))
            {
                errors.Add(new FieldError("runtime", $"the profile '{profile.Name}' requires '{profile.Runtime}'; a request may only ask for a stronger runtime"));
            }
            else
            {
                runtime = requestedRuntime;
            }
        }

        ResourceLimits? limits = null;
        if (profile is not null)
        {
            var (effective, limitErrors) = LimitTightener.Apply(profile.Limits, request.Limits);
            errors.AddRange(limitErrors);
            limits = effective;
        }

        if (errors.Count > 0 || profile is null || limits is null)
        {
            return (null, errors);
        }

        if (profile.Backend == BackendNames.Wasm)
        {
            if (request.Runtime is not null)
            {
                // Fail closed: a caller who asked for gVisor must not silently get something else.
                return (null, [new FieldError("runtime", $"the profile '{profile.Name}' runs on the wasm backend, in a worker process under bubblewrap; 'runtime' applies to container profiles only")]);
            }

            runtime = RuntimeNames.Bubblewrap;
        }

        return (new RunPlan { RunId = runId, Request = request, Profile = profile, Limits = limits, Runtime = runtime }, []);
    }

    private static Profile? ResolveProfile(RunRequest request, ProfileSet profiles, List<FieldError> errors)
    {
        if (string.IsNullOrWhiteSpace(request.Language))
        {
            errors.Add(new FieldError("language", $"is required; one of: {string.Join(", ", profiles.Languages)}"));
            return null;
        }

        if (request.Profile is { } name)
        {
            if (!profiles.TryGet(name, out var named))
            {
                errors.Add(new FieldError("profile", $"unknown profile '{Printable(name)}'; known: {string.Join(", ", profiles.All.Select(p => p.Name).Order(StringComparer.Ordinal))}"));
                return null;
            }

            if (named.Language != request.Language)
            {
                errors.Add(new FieldError("profile", $"profile '{name}' runs '{named.Language}', not '{Printable(request.Language)}'"));
                return null;
            }

            if (request.Backend is { } namedBackend && named.Backend != namedBackend)
            {
                errors.Add(new FieldError("backend", $"profile '{name}' uses the '{named.Backend}' backend, not '{Printable(namedBackend)}'"));
                return null;
            }

            return named;
        }

        if (request.Backend is { } backend)
        {
            if (backend is not (BackendNames.Docker or BackendNames.Wasm))
            {
                errors.Add(new FieldError("backend", $"must be '{BackendNames.Docker}' or '{BackendNames.Wasm}' (got '{Printable(backend)}')"));
                return null;
            }

            if (request.Profile is null && BackendSelector.ForBackend(profiles, request.Language, backend) is { } forced)
            {
                return forced;
            }
        }

        if (!profiles.TryGet(request.Language, out var byLanguage) || byLanguage.Language != request.Language)
        {
            errors.Add(new FieldError("language", $"unknown language '{Printable(request.Language)}'; one of: {string.Join(", ", profiles.Languages)}"));
            return null;
        }

        if (request.Backend is { } wanted && byLanguage.Backend != wanted)
        {
            errors.Add(new FieldError("backend", $"'{Printable(request.Language)}' has no profile for the '{wanted}' backend (neither its default nor '{BackendSelector.ProfileName(request.Language, wanted)}')"));
            return null;
        }

        return byLanguage;
    }

    private static void CheckFiles(IReadOnlyList<InputFile>? files, Profile? profile, List<FieldError> errors)
    {
        if (files is null)
        {
            return;
        }

        if (files.Count > MaxFiles)
        {
            errors.Add(new FieldError("files", $"has {files.Count} entries; the most allowed is {MaxFiles}"));
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;
        for (var i = 0; i < files.Count; i++)
        {
            var file = files[i];
            if (file is null)
            {
                errors.Add(new FieldError($"files[{i}]", "must not be null"));
                continue;
            }

            if (RelativePath.Check(file.Path) is { } problem)
            {
                errors.Add(new FieldError($"files[{i}].path", problem));
            }
            else if (!seen.Add(file.Path))
            {
                errors.Add(new FieldError($"files[{i}].path", $"'{file.Path}' is given more than once"));
            }
            else if (profile is not null && (file.Path == profile.SourceFile || file.Path == profile.Compile?.Artifact))
            {
                errors.Add(new FieldError($"files[{i}].path", $"'{file.Path}' is reserved for the program itself"));
            }

            total += Encoding.UTF8.GetByteCount(file.Content ?? "");
        }

        var maxFiles = profile?.EffectiveMaxFilesBytes ?? AbsoluteMaxCodeBytes;
        if (total > maxFiles)
        {
            errors.Add(new FieldError("files", $"hold {total} bytes in all; the most allowed is {maxFiles}"));
        }
    }

    // Names echoed back into messages are cut and stripped of control characters: they came from the caller.
    private static string Printable(string value)
    {
        var clean = new string([.. value.Where(c => !char.IsControl(c)).Take(64)]);
        return clean.Length < value.Length ? clean + "…" : clean;
    }
}
