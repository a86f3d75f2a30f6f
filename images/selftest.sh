#!/usr/bin/env bash
# Runs every language image's self-test (images/<lang>/selftest.* against selftest.expected) with the
# plain docker CLI, once per profile in images/<lang>/profile.json (so crun and runsc variants both),
# with the full hardening flags, the profile's limits and seccomp/runner.json. Files reach the
# container the way the host sends them: through sandbox-entry's stdin protocol, never a mount.
# Compiled languages compile in one container and run in a second (the harness pipes the artifact
# out of the first on stdout). Exits non-zero on any mismatch.
# Usage: images/selftest.sh [profile-name...]     (default: every profile)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec python3 - "$here" "$@" <<'PY'
import json, os, pathlib, subprocess, sys, time, uuid

here = pathlib.Path(sys.argv[1])
wanted = set(sys.argv[2:])
seccomp = str(here.parent / "seccomp" / "runner.json")
ENTRY = "/usr/local/bin/sandbox-entry"


def stream(files, stdin=b""):
    """The sandbox-entry protocol: magic, count, then '<size> <mode> <path>\\n' + bytes per file."""
    out = [b"SANDBOX-FILES 1\n", b"%d\n" % len(files)]
    for path, mode, data in files:
        out += [b"%d %s %s\n" % (len(data), mode.encode(), path.encode()), data]
    return b"".join(out) + stdin


def docker_args(profile, limits, tmp_exec, name):
    """The hardening checklist, in the order a reviewer reads it."""
    mem = str(limits["memoryBytes"])
    args = ["docker", "run", "-i", "--rm", "--name", name,
            "--runtime", profile["runtime"],
            "--network", "none",                        # no interfaces but loopback
            "--read-only",                              # root filesystem is the image, unchanged
            "--tmpfs", "/tmp:rw,%s,nosuid,nodev,size=%d,mode=1777" % ("exec" if tmp_exec else "noexec", limits["tmpBytes"]),
            "--cap-drop", "ALL",                        # no capabilities at all
            "--security-opt", "no-new-privileges",      # setuid binaries cannot raise privilege
            "--security-opt", "seccomp=" + seccomp,     # our allow-list (seccomp/README.md)
            "--user", "65534:65534",                    # nobody
            "--pids-limit", str(limits["pids"]),        # fork bombs stop here
            "--memory", mem, "--memory-swap", mem,      # no swap on top of the memory limit
            "--ulimit", "fsize=%d:%d" % (limits["fileSizeBytes"], limits["fileSizeBytes"]),
            "--ulimit", "core=0:0",
            "--log-driver", "none",
            "--workdir", "/tmp"]
    for key, value in profile.get("environment", {}).items():
        args += ["--env", "%s=%s" % (key, value)]
    return args + [profile["image"], ENTRY]


def run(profile, limits, tmp_exec, command, files):
    name = "sandbox-selftest-" + uuid.uuid4().hex[:12]
    argv = docker_args(profile, limits, tmp_exec, name) + command
    try:
        # The wall limit plus the container's own start-up, which the host does not charge to the program.
        return subprocess.run(argv, input=stream(files), capture_output=True, timeout=limits["wallTimeMs"] / 1000 + 10)
    except subprocess.TimeoutExpired:
        subprocess.run(["docker", "kill", name], capture_output=True)
        return subprocess.CompletedProcess(argv, 124, b"", b"timed out")


failures = 0
ran = 0
for profile_file in sorted(here.glob("*/profile.json")):
    lang_dir = profile_file.parent
    tests = [p for p in lang_dir.glob("selftest.*") if p.suffix != ".expected"]
    if not tests:
        continue
    source = tests[0].read_bytes()
    expected = (lang_dir / "selftest.expected").read_bytes()
    for name, profile in json.loads(profile_file.read_text())["profiles"].items():
        if wanted and name not in wanted:
            continue
        if profile.get("backend", "docker") != "docker":
            continue  # wasm profiles run in-process, not in a container; the wasm backend's own tests cover them
        ran += 1
        started = time.monotonic()
        files = [(profile["sourceFile"], "644", source)]
        result = None
        compile_step = profile.get("compile")
        if compile_step:
            artifact = compile_step["artifact"]
            # Harness only: print the compiler's output on stderr and the artifact on stdout.
            command = ["sh", "-c", '"$@" >&2 && exec cat "$0"', artifact] + compile_step["command"]
            result = run(profile, compile_step["limits"], False, command, files)
            if result.returncode != 0:
                print("FAIL %-20s compile exited %d\n%s" % (name, result.returncode, result.stderr.decode(errors="replace")))
                failures += 1
                continue
            files = [(artifact, "755", result.stdout)]
        result = run(profile, profile["limits"], profile.get("tmpExec", False), profile["command"], files)
        elapsed = time.monotonic() - started
        if result.returncode == 0 and result.stdout == expected:
            print("ok   %-20s %-7s %.2f s" % (name, profile["runtime"], elapsed))
            continue
        failures += 1
        print("FAIL %-20s %-7s exit %d" % (name, profile["runtime"], result.returncode))
        print("  expected: %r\n  actual:   %r\n  stderr:   %s" % (expected, result.stdout, result.stderr.decode(errors="replace")[-2000:]))

# Every image, once and whole: no setuid or setgid file anywhere on its root filesystem (each Dockerfile
# strips them last). The language self-tests check only where programs live; a walk of the whole image
# takes seconds under gVisor, too slow for a run's wall limit, so it is done here, with runc and no limits.
checked = set()
for profile_file in sorted(here.glob("*/profile.json")):
    for name, profile in json.loads(profile_file.read_text())["profiles"].items():
        if (wanted and name not in wanted) or profile.get("backend", "docker") != "docker" or profile["image"] in checked:
            continue
        checked.add(profile["image"])
        found = subprocess.run(["docker", "run", "--rm", "--network", "none", "--user", "65534:65534", profile["image"],
                                "find", "/", "-xdev", "-type", "f", "-perm", "/6000"], capture_output=True, text=True)
        if found.stdout.strip():
            failures += 1
            print("FAIL %-20s setuid/setgid files: %s" % (profile["image"], " ".join(found.stdout.split())))
        else:
            print("ok   %-20s no setuid/setgid file" % profile["image"])

if ran == 0:
    print("no self-test ran" + (" (unknown profile: %s)" % ", ".join(sorted(wanted)) if wanted else ""))
    sys.exit(1)
print("%d self-tests, %d failed" % (ran, failures))
sys.exit(1 if failures else 0)
PY
