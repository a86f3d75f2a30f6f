using Sandbox.Server.Mcp;

namespace Sandbox.Server.Tests.Mcp;

public sealed class ToolDefinitionsTests
{
    [Fact]
    public void All_RunCodeDescription_ListsLanguagesLimitsProfilesAndStatuses()
    {
        var description = ToolDefinitions.All(Some.Catalog())[0].Description!;

        description.ShouldContain("- python (python for tests): wall time 10 s, CPU time 5 s, memory 256 MiB, processes and threads 64, stdout 1 MiB, stderr 1 MiB, file size 16 MiB, /tmp space 64 MiB. Other profiles: python-big, python-gvisor.");
        description.ShouldContain("- bash (bash for tests)");
        foreach (var (status, _) in ToolDefinitions.Statuses)
        {
            description.ShouldContain($"\n- {status}: ");
        }
    }

    [Fact]
    public void All_RunCodeSchema_EnumeratesLanguagesAndLeavesPurposeOptional()
    {
        var schema = ToolDefinitions.All(Some.Catalog())[0].InputSchema;

        schema.GetProperty("properties").GetProperty("language").GetProperty("enum").EnumerateArray().Select(e => e.GetString())
            .ShouldBe(["bash", "javascript", "python"]);
        schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()).ShouldBe(["language", "code"]);
        schema.GetProperty("properties").GetProperty("limits").GetProperty("properties").TryGetProperty("wallTimeMs", out _).ShouldBeTrue();
    }

    [Fact]
    public void All_ReadOnlyTools_SayTheyAreReadOnly()
    {
        var tools = ToolDefinitions.All(Some.Catalog());

        tools.Single(t => t.Name == ToolDefinitions.ListLanguages).Annotations!.ReadOnlyHint.ShouldBe(true);
        tools.Single(t => t.Name == ToolDefinitions.GetRun).Annotations!.ReadOnlyHint.ShouldBe(true);
        tools.Single(t => t.Name == ToolDefinitions.RunCode).Annotations!.OpenWorldHint.ShouldBe(false);
    }
}
