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

    /// <summary>
    /// Most files and folders the input files make in <c>/tmp</c> together, so they fit every backend's inode cap
    /// (a tmpfs of at least 1 024 inodes, the in-memory /tmp's 4 096 entries) with room left for the program.
    /// </summary>
    public const int MaxEntries = 512;

    /// <summary>Ceiling on code size before a profile is known, so a huge request is refused cheaply.</summary>
    public const long AbsoluteMaxCodeBytes = 16 * 1024 * 1024;

    /// <summary>Validates <paramref name="request"/>; <paramref name="minimums"/> gives what the profile's backend needs of its limits.</summary>
    public static (RunPlan? Plan, IReadOnlyList<FieldError> Errors) Plan(
        RunRequest request, ProfileSet profiles, string runId, Func<Profile, BackendMinimums>? minimums = null)
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
            if (!RuntimeNames.IsContainer(requestedRuntime))
            {
                errors.Add(new FieldError("runtime", $"must be {RuntimeNames.ContainerList} (got '{requestedRuntime}')"));
            }
            else if (profile is not null && !RuntimeNames.IsAtLeastAsStrong(requestedRuntime, profile.Runtime))
            {
                errors.Add(new FieldError("runtime", $"the profile '{profile.Name}' requires '{profile.Runtime}'; a request may only ask for one at least as strong (runc and crun are equal, runsc is stronger)"));
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
            if (effective is not null && errors.Count == 0)
            {
                CheckMinimums(request, profile, effective, minimums?.Invoke(profile) ?? BackendMinimums.None, errors);
            }
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
        var valid = new List<(int Index, string Path)>();
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
            else
            {
                valid.Add((i, file.Path));
            }

            total += Encoding.UTF8.GetByteCount(file.Content ?? "");
        }

        CheckLayout(valid, profile, errors);

        var maxFiles = profile?.EffectiveMaxFilesBytes ?? AbsoluteMaxCodeBytes;
        if (total > maxFiles)
        {
            errors.Add(new FieldError("files", $"hold {total} bytes in all; the most allowed is {maxFiles}"));
        }
    }

    /// <summary>
    /// The files must make one tree: no path may be a file and a folder at once (<c>a</c> and <c>a/b</c>, or a folder
    /// of the program's own file), and the files and folders together stay under <see cref="MaxEntries"/>. Checked
    /// here, the same for every backend, because the container's unpacker and the in-memory /tmp would otherwise
    /// each fail in their own way after the run had started.
    /// </summary>
    private static void CheckLayout(List<(int Index, string Path)> files, Profile? profile, List<FieldError> errors)
    {
        var owners = files.ToDictionary(f => f.Path, f => $"files[{f.Index}]", StringComparer.Ordinal);
        if (profile is not null)
        {
            owners.TryAdd(profile.SourceFile, "the program's own file");
            if (profile.Compile?.Artifact is { } artifact)
            {
                owners.TryAdd(artifact, "the compiled program");
            }
        }

        var folders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (index, path) in files)
        {
            for (var slash = path.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = path.IndexOf('/', slash + 1))
            {
                var folder = path[..slash];
                folders.Add(folder);
                if (owners.TryGetValue(folder, out var owner))
                {
                    errors.Add(new FieldError($"files[{index}].path", $"'{path}' needs '{folder}' to be a folder, but it is a file ({owner}); a path may be a file or a folder, not both"));
                    break;
                }
            }
        }

        if (files.Count + folders.Count is var entries && entries > MaxEntries)
        {
            errors.Add(new FieldError("files", $"make {entries} files and folders in all; the most allowed is {MaxEntries}"));
        }
    }

    /// <summary>
    /// The effective limits against what the backend needs to start the program and write its files: memory at
    /// least the backend's minimum, <c>fileSizeBytes</c> at least the largest file written, <c>tmpBytes</c> at least
    /// every file written (in the backend's allocation unit). Each error names the field and the range it may take.
    /// </summary>
    private static void CheckMinimums(RunRequest request, Profile profile, ResourceLimits limits, BackendMinimums minimums, List<FieldError> errors)
    {
        var ceiling = profile.Limits;
        var asked = request.Limits;
        if (limits.MemoryBytes < minimums.MemoryBytes)
        {
            errors.Add(new FieldError($"limits.{LimitNames.MemoryBytes}", Range(limits.MemoryBytes, minimums.MemoryBytes, ceiling.MemoryBytes, minimums.MemoryReason)));
        }

        // What the backend writes before the program starts: the input files, and the code itself unless it is the module.
        var written = new List<(string Field, long Bytes)>();
        if (!(profile.Backend == BackendNames.Wasm && profile.Language == LanguageNames.Wasm))
        {
            written.Add(("code", Encoding.UTF8.GetByteCount(request.Code)));
        }

        var files = request.Files ?? [];
        for (var i = 0; i < files.Count; i++)
        {
            written.Add(($"files[{i}]", Encoding.UTF8.GetByteCount(files[i].Content ?? "")));
        }

        var largest = written.Count == 0 ? default : written.MaxBy(w => w.Bytes);
        var needFile = Math.Max(minimums.FileSizeBytes, largest.Bytes);
        if (limits.FileSizeBytes < needFile)
        {
            errors.Add(asked?.FileSizeBytes is not null || largest.Field is null
                ? new FieldError($"limits.{LimitNames.FileSizeBytes}", Range(limits.FileSizeBytes, needFile, ceiling.FileSizeBytes, largest.Field is null ? "the backend's minimum" : $"{largest.Field} is {largest.Bytes} bytes and is written as a file"))
                : new FieldError(largest.Field, $"is {largest.Bytes} bytes; the largest file allowed is {limits.FileSizeBytes} bytes ({LimitNames.FileSizeBytes})"));
        }

        var block = Math.Max(1, minimums.TmpBlockBytes);
        var needTmp = Math.Max(minimums.TmpBytes, written.Sum(w => (w.Bytes + block - 1) / block * block));
        if (limits.TmpBytes < needTmp)
        {
            errors.Add(asked?.TmpBytes is not null
                ? new FieldError($"limits.{LimitNames.TmpBytes}", Range(limits.TmpBytes, needTmp, ceiling.TmpBytes, "the code and files are written to /tmp before the program starts"))
                : new FieldError("files", $"need {needTmp} bytes of /tmp with the code; the most allowed is {limits.TmpBytes} ({LimitNames.TmpBytes})"));
        }
    }

    private static string Range(long value, long least, long most, string why) => least <= most
        ? $"is {value}; it must be between {least} and {most} ({why})"
        : $"is {value}; it must be at least {least} ({why}), which is more than this profile allows ({most})";

    // Names echoed back into messages are cut and stripped of control characters: they came from the caller.
    private static string Printable(string value)
    {
        var clean = new string([.. value.Where(c => !char.IsControl(c)).Take(64)]);
        return clean.Length < value.Length ? clean + "…" : clean;
    }
}
