using System.CommandLine;
using Sandbox.Cli.Hosting;
using Sandbox.Server.Hosting;
using Sandbox.Core.Errors;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;

namespace Sandbox.Cli.Commands;

/// <summary>
/// <c>sandbox doctor</c>: checks that Docker is reachable, that seccomp, the cgroup meter and the runtimes
/// are there, and that every image exists and passes its self-test; says how to fix what is missing.
/// </summary>
internal static class DoctorCommand
{
    public static Command Create(Option<string?> profilesOption)
    {
        var selfTests = new Option<string?>("--selftests") { Description = "Folder with <language>/selftest.* files (default: selftests/ beside the executable, else images/)." };
        var skipSelfTests = new Option<bool>("--no-selftests") { Description = "Only check that images exist; do not run their self-tests." };
        var command = new Command("doctor", "Check the host and the images, and say how to fix what is missing.") { selfTests, skipSelfTests };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var host = CommandSupport.CreateHost(parse.GetValue(profilesOption), out var exitCode);
            if (host is null)
            {
                return exitCode;
            }

            var report = new DoctorReport();
            await CheckDockerAsync(host, report, cancellationToken);
            if (report.DockerReachable)
            {
                await CheckImagesAsync(host, report, cancellationToken);
                if (!parse.GetValue(skipSelfTests))
                {
                    await RunSelfTestsAsync(host, FindSelfTests(parse.GetValue(selfTests)), report, cancellationToken);
                }
            }

            CheckWasmGuests(host, report);

            Console.WriteLine(report.Failures == 0 ? "doctor: all checks passed" : $"doctor: {report.Failures} check(s) failed");
            return report.Failures == 0 ? 0 : 1;
        });
        return command;
    }

    private static async Task CheckDockerAsync(SandboxHost host, DoctorReport report, CancellationToken cancellationToken)
    {
        try
        {
            await host.Docker.PingAsync(cancellationToken);
            var version = await host.Docker.GetVersionAsync(cancellationToken);
            var info = await host.Docker.GetInfoAsync(cancellationToken);
            report.DockerReachable = true;
            report.Pass("docker", $"Docker {version.Version} (API {version.ApiVersion}), {info.CgroupDriver} cgroups {info.CgroupVersion}");

            var seccomp = info.SecurityOptions?.Any(o => o.Contains("seccomp", StringComparison.Ordinal)) ?? false;
            report.Check("seccomp", seccomp, "the daemon supports seccomp", "build dockerd with seccomp support (Debian's docker.io has it)");

            report.Check("cgroups", host.Meter.IsAvailable && info.CgroupDriver == "cgroupfs",
                host.Meter.Description + $", driver {info.CgroupDriver}",
                "run the sandbox as root on the Docker host, with dockerd using the cgroupfs driver (the default without systemd)");

            // Every container runtime we know is reported; one a profile names must be registered, the others are optional
            // (a request may still ask for them, and then it fails at container start).
            var used = host.Profiles.All.Where(p => p.Backend == BackendNames.Docker).Select(p => p.Runtime).ToHashSet(StringComparer.Ordinal);
            foreach (var runtime in RuntimeNames.Container)
            {
                var present = info.Runtimes?.ContainsKey(runtime) ?? false;
                if (present)
                {
                    report.RegisteredRuntimes.Add(runtime);
                }

                if (present || used.Contains(runtime))
                {
                    report.Check($"runtime {runtime}", present, "registered with dockerd" + (used.Contains(runtime) ? "" : " (no profile uses it; requests may ask for it)"),
                        runtime switch
                        {
                            RuntimeNames.Runsc => "install runsc (apt-get install runsc) and register it in /etc/docker/daemon.json, see README",
                            RuntimeNames.Crun => "install crun (apt-get install crun), register it in /etc/docker/daemon.json and, on a hybrid cgroup host, bind hugetlb to a v1 hierarchy (see eng/docker-up.sh)",
                            _ => $"register the '{runtime}' runtime in /etc/docker/daemon.json",
                        });
                }
                else
                {
                    report.Pass($"runtime {runtime}", "not registered with dockerd (optional: no profile uses it)");
                }
            }
        }
        catch (SandboxException ex)
        {
            report.Fail("docker", ex.Message, "start dockerd (see .ci/run) or point DOCKER_HOST at its socket: DOCKER_HOST=unix:///var/run/docker.sock");
        }
    }

    private static async Task CheckImagesAsync(SandboxHost host, DoctorReport report, CancellationToken cancellationToken)
    {
        foreach (var image in host.Profiles.All.Where(p => p.Backend == "docker").Select(p => p.Image).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var found = await host.Docker.InspectImageAsync(image, cancellationToken);
            report.Check($"image {image}", found is not null, found is null ? "missing" : $"present ({found.Size / (1024 * 1024)} MiB)", "build the images: make images");
        }
    }

    /// <summary>Every WebAssembly profile's guest module and preopened folders are where the profile says.</summary>
    private static void CheckWasmGuests(SandboxHost host, DoctorReport report)
    {
        var unavailable = host.Wasm.Unavailable;
        report.Check("wasm worker", unavailable is null,
            unavailable ?? "bubblewrap, setpriv, the worker (uid 65534, its own namespaces and cgroup) are ready",
            "install bubblewrap (apt-get install bubblewrap), run as root on a host with cgroup memory, cpu and pids controllers, then make build");

        foreach (var profile in host.Profiles.All.Where(p => p.Backend == BackendNames.Wasm && p.Module is not null).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            var missing = new[] { profile.ResolvePath(profile.Module!) }.Where(f => !File.Exists(f))
                .Concat(profile.Preopens.Values.Select(profile.ResolvePath).Where(d => !Directory.Exists(d)))
                .ToList();
            report.Check($"guest {profile.Name}", missing.Count == 0,
                missing.Count == 0 ? $"{profile.Module} and {profile.Preopens.Count} preopen(s) present" : "missing: " + string.Join(", ", missing.Select(Path.GetFileName)),
                "build the WebAssembly guests (make guests), then make build");
        }
    }

    private static async Task RunSelfTestsAsync(SandboxHost host, string? folder, DoctorReport report, CancellationToken cancellationToken)
    {
        if (folder is null)
        {
            report.Fail("self-tests", "no self-test folder found", "pass --selftests <dir> (the repository's images/ folder) or run 'make build'");
            return;
        }

        // The Docker images' self-tests; WebAssembly guests are checked by their own backend's tests.
        (string Language, string Source, string Expected, Profile Profile)? firstPassed = null;
        foreach (var language in host.Profiles.Languages.Where(l => host.Profiles.TryGet(l, out var p) && p.Backend == BackendNames.Docker))
        {
            var dir = Path.Join(folder, language);
            var source = Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "selftest.*").FirstOrDefault(f => !f.EndsWith(".expected", StringComparison.Ordinal)) : null;
            var expectedFile = Path.Join(dir, "selftest.expected");
            if (source is null || !File.Exists(expectedFile))
            {
                report.Fail($"self-test {language}", "no selftest.* and selftest.expected", $"add them under images/{language}/");
                continue;
            }

            var result = await host.Pipeline.RunAsync(
                new RunRequest { Language = language, Code = await File.ReadAllTextAsync(source, cancellationToken), Purpose = "sandbox doctor self-test" },
                cancellationToken);
            var expected = await File.ReadAllTextAsync(expectedFile, cancellationToken);
            var passed = result.Status == RunStatus.Ok && result.Stdout == expected;
            report.Check($"self-test {language}", passed,
                passed ? $"ok in {result.Usage.WallMs} ms" : $"{result.Status.ToWireName()}: {result.Message ?? FirstLine(result.Stdout + result.Stderr)}",
                $"rebuild the image (make images) and run: sandbox run --lang {language} {source}");
            if (passed && firstPassed is null && host.Profiles.TryGet(language, out var profile))
            {
                firstPassed = (language, source, expected, profile);
            }
        }

        // A registered runtime works when the first passing self-test passes under it too (a registered runtime can still
        // fail every start: crun on a hybrid cgroup host, a runsc without its platform).
        if (firstPassed is ({ } lang, { } file, { } output, { } defaultProfile))
        {
            var code = await File.ReadAllTextAsync(file, cancellationToken);
            foreach (var runtime in report.RegisteredRuntimes.Where(r => RuntimeNames.IsAtLeastAsStrong(r, defaultProfile.Runtime)))
            {
                var result = await host.Pipeline.RunAsync(
                    new RunRequest { Language = lang, Code = code, Runtime = runtime, Purpose = $"sandbox doctor: does {runtime} run containers" },
                    cancellationToken);
                var works = result.Status == RunStatus.Ok && result.Stdout == output;
                report.Check($"runtime {runtime} works", works,
                    works ? $"self-test {lang} ok in {result.Usage.WallMs} ms" : $"{result.Status.ToWireName()}: {result.Message ?? FirstLine(result.Stdout + result.Stderr)}",
                    $"run: sandbox run --runtime {runtime} --lang {lang} {file}; then docker run --rm --runtime {runtime} {defaultProfile.Image} true shows the runtime's own error");
            }
        }
    }

    private static string? FindSelfTests(string? explicitFolder)
    {
        string[] candidates = [explicitFolder ?? "", Path.Join(AppContext.BaseDirectory, "selftests"), "images"];
        return candidates.FirstOrDefault(c => c.Length > 0 && Directory.Exists(c));
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0];

    private sealed class DoctorReport
    {
        public bool DockerReachable { get; set; }

        /// <summary>The container runtimes dockerd lists, of those we know (<see cref="RuntimeNames.Container"/>).</summary>
        public List<string> RegisteredRuntimes { get; } = [];

        public int Failures { get; private set; }

        public int Passes { get; private set; }

        public void Pass(string name, string detail)
        {
            Passes++;
            Console.WriteLine($"  ok    {name}: {detail}");
        }

        public void Fail(string name, string detail, string fix)
        {
            Failures++;
            Console.WriteLine($"  FAIL  {name}: {detail}\n        fix: {fix}");
        }

        public void Check(string name, bool ok, string detail, string fix)
        {
            if (ok)
            {
                Pass(name, detail);
            }
            else
            {
                Fail(name, detail, fix);
            }
        }
    }
}
