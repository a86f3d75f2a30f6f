using System.Text.Json.Serialization;
using Sandbox.Core.Limits;

namespace Sandbox.Core.Profiles;

/// <summary>
/// An operator-edited recipe for running one language: where (backend, runtime, image), how (command)
/// and within what (limits). The profile named after a language is that language's default.
/// </summary>
public sealed record Profile
{
    // The source-generated deserializer sets every init-only property, absent ones to null, so the
    // setters restore the defaults instead of letting an omitted field become null.
    private static readonly IReadOnlyDictionary<string, string> s_noEnvironment = new Dictionary<string, string>();

    /// <summary>The profile's name; set from its key in the profiles file.</summary>
    public string Name { get; init => field = value ?? ""; } = "";

    /// <summary>The language it runs, as a request's <c>language</c>.</summary>
    public required string Language { get; init; }

    /// <summary>A short description, such as the interpreter's version.</summary>
    public string? Description { get; init; }

    /// <summary><c>docker</c> (the default) or <c>wasm</c>.</summary>
    public string Backend { get; init => field = value ?? BackendNames.Docker; } = BackendNames.Docker;

    /// <summary>Container runtime: <c>runc</c> or <c>crun</c> (the same kernel isolation), or <c>runsc</c> for gVisor.</summary>
    /// <remarks>
    /// A profile that names none gets runc, which every Docker host has; the shipped profiles name crun, measured faster
    /// to start here, which a host must register (and on a hybrid cgroup layout prepare, see eng/docker-up.sh).
    /// </remarks>
    public string Runtime { get; init => field = value ?? RuntimeNames.Runc; } = RuntimeNames.Runc;

    /// <summary>The image that holds the language, such as <c>sandbox/python:latest</c>.</summary>
    public string Image { get; init => field = value ?? ""; } = "";

    /// <summary>The command that runs the program, relative to the working directory; argv, never a shell string.</summary>
    public IReadOnlyList<string> Command { get; init => field = value ?? []; } = [];

    /// <summary>
    /// Docker only, optional: the command <c>sandbox-entry</c> starts as soon as the container starts, before the program's
    /// files arrive, in place of <see cref="Command"/>. It must block reading descriptor 3 and, on the byte <c>g</c>, run
    /// the program exactly as <see cref="Command"/> would (for Python, <c>images/python/sandbox_prestart.py</c>), so an
    /// interpreter's start-up is paid while a warm container waits rather than on the run's clock.
    /// </summary>
    public IReadOnlyList<string>? Prestart { get; init; }

    /// <summary>The file name the code is written to, such as <c>main.py</c>.</summary>
    public required string SourceFile { get; init; }

    /// <summary>The ceiling for every run of this profile.</summary>
    public required ResourceLimits Limits { get; init; }

    /// <summary>Caps on the files returned from <c>/tmp/outputs</c> (count, bytes per file, total bytes); the defaults when absent.</summary>
    public ArtifactLimits Artifacts { get; init => field = value ?? ArtifactLimits.Default; } = ArtifactLimits.Default;

    /// <summary>A separate, sandboxed compile step for compiled languages; its failure is <c>compile_error</c>.</summary>
    public CompileStep? Compile { get; init; }

    /// <summary>An exit code that means the program did not compile (for runners that compile and run in one step).</summary>
    public int? CompileErrorExitCode { get; init; }

    /// <summary>The only environment variables the program sees (an allow-list; nothing of the host's leaks in).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init => field = value ?? s_noEnvironment; } = s_noEnvironment;

    /// <summary>
    /// For the <c>wasm</c> backend: the guest module (a WASI preview1 command) that runs the program, such as
    /// a Python interpreter. Relative paths are resolved against the profiles file's folder. Profiles of the
    /// language <c>wasm</c> name none: there the caller's code is the module itself (base64).
    /// </summary>
    public string? Module { get; init; }

    /// <summary>
    /// For the <c>wasm</c> backend: an optional, deterministic budget of WebAssembly instructions. Unlike
    /// <c>cpuTimeMs</c> (real CPU time, measured by the kernel), the same program stops at the same point
    /// every time; past it the run is <c>cpu_limit</c> with <c>limitBreach.limit</c> <c>fuel</c>. Null for none.
    /// </summary>
    public long? Fuel { get; init; }

    /// <summary>
    /// For the <c>wasm</c> backend: read-only folders the guest sees, guest path (such as <c>/usr/local</c>)
    /// to host folder (relative to the profiles file's folder). The guest always gets a private, capped <c>/tmp</c> too.
    /// </summary>
    public IReadOnlyDictionary<string, string> Preopens { get; init => field = value ?? s_noEnvironment; } = s_noEnvironment;

    /// <summary>The folder of the profiles file this profile came from; relative <see cref="Module"/> and <see cref="Preopens"/> paths start there.</summary>
    [JsonIgnore]
    public string BaseDirectory { get; init => field = value ?? ""; } = "";

    /// <summary>
    /// The packages preinstalled in this profile's image, as the image reported them when it was built
    /// (<see cref="InstalledPackages"/>); null when no list was found. Never read from the profile file itself.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<PackageInfo>? Packages { get; init; }

    /// <summary>Resolves a path of this profile (module, preopen) against <see cref="BaseDirectory"/>.</summary>
    public string ResolvePath(string path) =>
        Path.IsPathRooted(path) || BaseDirectory.Length == 0 ? path : Path.GetFullPath(Path.Join(BaseDirectory, path));

    /// <summary>Whether programs may execute files in <c>/tmp</c> (needed to run a compiled binary).</summary>
    public bool TmpExec { get; init; }

    /// <summary>Largest accepted source, in bytes; null means <see cref="DefaultMaxCodeBytes"/>.</summary>
    public long? MaxCodeBytes { get; init; }

    /// <summary>Whether every run of this profile waits for a human's approval in the service (a risky profile).</summary>
    public bool RequiresApproval { get; init; }

    /// <summary>Largest accepted stdin, in bytes; null means <see cref="DefaultMaxStdinBytes"/>.</summary>
    public long? MaxStdinBytes { get; init; }

    /// <summary>Largest accepted total of extra input files, in bytes; null means <see cref="DefaultMaxFilesBytes"/>.</summary>
    public long? MaxFilesBytes { get; init; }

    public const long DefaultMaxCodeBytes = 1024 * 1024;
    public const long DefaultMaxStdinBytes = 1024 * 1024;
    public const long DefaultMaxFilesBytes = 4 * 1024 * 1024;

    /// <summary>Largest accepted code, in bytes, default applied.</summary>
    public long EffectiveMaxCodeBytes => MaxCodeBytes ?? DefaultMaxCodeBytes;

    /// <summary>Largest accepted standard input, in bytes, default applied.</summary>
    public long EffectiveMaxStdinBytes => MaxStdinBytes ?? DefaultMaxStdinBytes;

    /// <summary>Largest accepted total of input files, in bytes, default applied.</summary>
    public long EffectiveMaxFilesBytes => MaxFilesBytes ?? DefaultMaxFilesBytes;
}

/// <summary>A compile step that runs in its own sandbox before the program does.</summary>
public sealed record CompileStep
{
    /// <summary>The compiler's argv; it must leave <see cref="Artifact"/> in the working directory.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>The compiled file handed to the run step, such as <c>a.out</c>.</summary>
    public required string Artifact { get; init; }

    /// <summary>Limits of the compile step; the caller's overrides do not apply to it.</summary>
    public required ResourceLimits Limits { get; init; }
}

/// <summary>Names of the backends a profile may pick.</summary>
public static class BackendNames
{
    public const string Docker = "docker";
    public const string Wasm = "wasm";
}

/// <summary>Language names with a meaning of their own.</summary>
public static class LanguageNames
{
    /// <summary>The language whose code is a WebAssembly module itself (a WASI command, base64 in <c>code</c>).</summary>
    public const string Wasm = "wasm";
}

/// <summary>Names of the container runtimes a profile may pick.</summary>
public static class RuntimeNames
{
    public const string Runc = "runc";

    /// <summary>crun: another OCI runtime (C, not Go) that sets up the same namespaces, seccomp and cgroups as runc.</summary>
    public const string Crun = "crun";

    public const string Runsc = "runsc";

    /// <summary>
    /// Not a container runtime: the WebAssembly backend's worker process under bubblewrap namespaces and its own cgroup.
    /// Plans and results of <c>wasm</c> profiles name it, so a result never claims a container runtime that did not run it.
    /// </summary>
    public const string Bubblewrap = "bubblewrap";

    /// <summary>The container runtimes a profile or a request may name, in the order error messages list them.</summary>
    public static IReadOnlyList<string> Container { get; } = [Runc, Crun, Runsc];

    /// <summary>True for a name in <see cref="Container"/> (ordinal: a runtime name is matched exactly).</summary>
    public static bool IsContainer(string? name) => name is Runc or Crun or Runsc;

    /// <summary>The names for an error message: <c>'runc', 'crun' or 'runsc'</c>.</summary>
    public static string ContainerList => "'runc', 'crun' or 'runsc'";

    /// <summary>True when <paramref name="requested"/> isolates at least as strongly as <paramref name="profile"/>.</summary>
    public static bool IsAtLeastAsStrong(string requested, string profile) => Strength(requested) >= Strength(profile);

    // runc and crun both confine the program with the host kernel's namespaces, seccomp filter and cgroups from the
    // same OCI spec, so they are equally strong and either may stand in for the other; runsc adds gVisor's own kernel.
    // An unknown name ranks below everything, so it never passes for a stronger runtime.
    private static int Strength(string runtime) => runtime switch
    {
        Runc or Crun => 1,
        Runsc => 2,
        _ => 0,
    };
}
