using System.Text.Json.Serialization;

namespace Sandbox.Core.Runs;

/// <summary>How a run ended. Exactly one applies; user failures and sandbox failures never share a status.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RunStatus>))]
public enum RunStatus
{
    /// <summary>The program ran and exited with code 0.</summary>
    [JsonStringEnumMemberName("ok")] Ok,

    /// <summary>The program ran and exited non-zero or died from a signal that no limit explains.</summary>
    [JsonStringEnumMemberName("runtime_error")] RuntimeError,

    /// <summary>The program did not compile; it never ran.</summary>
    [JsonStringEnumMemberName("compile_error")] CompileError,

    /// <summary>The wall-clock deadline passed and the run was killed.</summary>
    [JsonStringEnumMemberName("timeout")] Timeout,

    /// <summary>The program used more CPU time than allowed and was killed.</summary>
    [JsonStringEnumMemberName("cpu_limit")] CpuLimit,

    /// <summary>The program needed more memory than allowed and was killed.</summary>
    [JsonStringEnumMemberName("memory_limit")] MemoryLimit,

    /// <summary>The program wrote more output than allowed and was killed.</summary>
    [JsonStringEnumMemberName("output_limit")] OutputLimit,

    /// <summary>The request was invalid or not allowed; nothing ran.</summary>
    [JsonStringEnumMemberName("rejected")] Rejected,

    /// <summary>Our infrastructure failed (Docker down, image missing); not the program's fault.</summary>
    [JsonStringEnumMemberName("sandbox_error")] SandboxError,

    /// <summary>A caller cancelled the run, or the service shut down before it finished; it was killed (or never started).</summary>
    [JsonStringEnumMemberName("cancelled")] Cancelled,
}

/// <summary>Wire names and classification helpers for <see cref="RunStatus"/>.</summary>
public static class RunStatusExtensions
{
    /// <summary>The snake_case name used on the wire and in the CLI.</summary>
    public static string ToWireName(this RunStatus status) => status switch
    {
        RunStatus.Ok => "ok",
        RunStatus.RuntimeError => "runtime_error",
        RunStatus.CompileError => "compile_error",
        RunStatus.Timeout => "timeout",
        RunStatus.CpuLimit => "cpu_limit",
        RunStatus.MemoryLimit => "memory_limit",
        RunStatus.OutputLimit => "output_limit",
        RunStatus.Rejected => "rejected",
        RunStatus.SandboxError => "sandbox_error",
        RunStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    /// <summary>True when a limit killed the run.</summary>
    public static bool IsLimitKill(this RunStatus status) =>
        status is RunStatus.Timeout or RunStatus.CpuLimit or RunStatus.MemoryLimit or RunStatus.OutputLimit;
}
