using System.Text.Json;
using Sandbox.Core.Runs;
using Sandbox.Core.Serialization;

namespace Sandbox.Core.Tests.Runs;

public sealed class RunStatusTests
{
    [Fact]
    public void Serialize_EveryStatus_UsesItsSnakeCaseWireName()
    {
        foreach (var status in Enum.GetValues<RunStatus>())
        {
            var json = JsonSerializer.Serialize(new RunResult { RunId = "r", Status = status }, SandboxJsonContext.Default.RunResult);

            json.ShouldContain($"\"status\": \"{status.ToWireName()}\"");
        }
    }

    [Fact]
    public void WireNames_AreExactlyTheDocumentedSet() =>
        Enum.GetValues<RunStatus>().Select(s => s.ToWireName()).ShouldBe(
            ["ok", "runtime_error", "compile_error", "timeout", "cpu_limit", "memory_limit", "output_limit", "rejected", "sandbox_error", "cancelled"]);
}
