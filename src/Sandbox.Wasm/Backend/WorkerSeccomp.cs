using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Sandbox.Wasm.Backend;

/// <summary>
/// The WebAssembly worker's seccomp filter, a classic BPF program that bwrap installs (<c>--seccomp</c>) before it
/// execs the runtime. The worker's whole job is computation on pipes, so where the runner containers have an
/// allow-list this is a short deny-list of the kernel's riskiest surfaces: what a guest that broke out of the engine
/// would reach for next. Each entry's reason is in <c>seccomp/README.md</c> ("The WebAssembly worker").
/// x86_64 only: elsewhere the worker does not start (fail closed, see <see cref="IsSupported"/>).
/// </summary>
internal static class WorkerSeccomp
{
    /// <summary>Denied with EPERM: the calls a process might try and should be told "not permitted".</summary>
    internal static readonly IReadOnlyDictionary<string, int> Denied = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        // Other processes' memory and execution.
        ["ptrace"] = 101, ["process_vm_readv"] = 310, ["process_vm_writev"] = 311, ["pidfd_getfd"] = 438, ["kcmp"] = 312, ["process_madvise"] = 440,
        // Kernel interfaces with a long CVE record that a computation never needs.
        ["io_uring_setup"] = 425, ["io_uring_enter"] = 426, ["io_uring_register"] = 427, ["bpf"] = 321, ["userfaultfd"] = 323,
        ["perf_event_open"] = 298, ["keyctl"] = 250, ["add_key"] = 248, ["request_key"] = 249, ["memfd_secret"] = 447,
        // Namespaces and mounts: the sandbox's shape is bwrap's to set, never the worker's to change.
        ["unshare"] = 272, ["setns"] = 308, ["mount"] = 165, ["umount2"] = 166, ["pivot_root"] = 155, ["chroot"] = 161,
        ["mount_setattr"] = 442, ["fsopen"] = 430, ["fsmount"] = 432, ["fsconfig"] = 431, ["move_mount"] = 429, ["open_tree"] = 428,
        ["open_by_handle_at"] = 304, ["name_to_handle_at"] = 303, ["fanotify_init"] = 300, ["quotactl"] = 179, ["lookup_dcookie"] = 212,
        // The machine itself: modules, kexec, reboot, swap, clocks, the kernel log, I/O ports.
        ["init_module"] = 175, ["finit_module"] = 313, ["delete_module"] = 176, ["kexec_load"] = 246, ["kexec_file_load"] = 320,
        ["reboot"] = 169, ["swapon"] = 167, ["swapoff"] = 168, ["acct"] = 163, ["settimeofday"] = 164, ["clock_settime"] = 227,
        ["adjtimex"] = 159, ["clock_adjtime"] = 305, ["syslog"] = 103, ["iopl"] = 172, ["ioperm"] = 173, ["vhangup"] = 153,
        // Device nodes and a second way to exec.
        ["mknod"] = 133, ["mknodat"] = 259, ["execveat"] = 322,
    };

    /// <summary>Denied with EAFNOSUPPORT: the worker talks to nothing but its pipes, so no socket of any family.</summary>
    internal static readonly IReadOnlyDictionary<string, int> NoSockets = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["socket"] = 41, ["socketpair"] = 53,
    };

    private const uint AuditArchX8664 = 0xC000003E;
    private const uint X32SyscallBit = 0x40000000;
    private const uint RetKillProcess = 0x80000000;
    private const uint RetAllow = 0x7FFF0000;
    private const uint RetErrno = 0x00050000;
    private const int Eperm = 1;
    private const int Eafnosupport = 97;

    // Classic BPF opcodes.
    private const ushort LdWAbs = 0x20;
    private const ushort JeqK = 0x15;
    private const ushort JgeK = 0x35;
    private const ushort RetK = 0x06;

    /// <summary>The syscall numbers above are x86_64's.</summary>
    public static bool IsSupported => RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>The filter as bwrap reads it: <c>struct sock_filter</c> entries, 8 bytes each.</summary>
    public static byte[] Build()
    {
        var program = new List<(ushort Code, byte Jt, byte Jf, uint K)>
        {
            (LdWAbs, 0, 0, 4),                       // seccomp_data.arch
            (JeqK, 1, 0, AuditArchX8664),
            (RetK, 0, 0, RetKillProcess),            // any other ABI (i386 via int 0x80) is killed outright
            (LdWAbs, 0, 0, 0),                       // seccomp_data.nr
            (JgeK, 0, 1, X32SyscallBit),
            (RetK, 0, 0, RetKillProcess),            // the x32 ABI shares the arch value: refused by its bit
        };
        foreach (var nr in Denied.Values)
        {
            program.Add((JeqK, 0, 1, (uint)nr));
            program.Add((RetK, 0, 0, RetErrno | Eperm));
        }

        foreach (var nr in NoSockets.Values)
        {
            program.Add((JeqK, 0, 1, (uint)nr));
            program.Add((RetK, 0, 0, RetErrno | Eafnosupport));
        }

        program.Add((RetK, 0, 0, RetAllow));
        var bytes = new byte[program.Count * 8];
        for (var i = 0; i < program.Count; i++)
        {
            var span = bytes.AsSpan(i * 8, 8);
            BinaryPrimitives.WriteUInt16LittleEndian(span, program[i].Code);
            span[2] = program[i].Jt;
            span[3] = program[i].Jf;
            BinaryPrimitives.WriteUInt32LittleEndian(span[4..], program[i].K);
        }

        return bytes;
    }
}
