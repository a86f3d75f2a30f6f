using Sandbox.Docker.Sessions;

namespace Sandbox.Docker.Tests.Sessions;

public sealed class JavaScriptKernelTests
{
    [Fact]
    public void Command_NodeProfile_MovesTheFramesToFd3AndLendsTheKernelTheInternals()
    {
        var command = JavaScriptKernel.Command(["node", "--max-old-space-size=384", "main.js"]);

        command.Take(2).ShouldBe(["/bin/sh", "-c"]);
        command[2].ShouldContain("exec 3<&0 </dev/null");
        command.Skip(3).ShouldBe(["sh", "node", "--expose-internals", "--max-old-space-size=384", "main.js"]);
    }

    [Fact]
    public void Command_NotNode_IsLaunchedAsIsWithoutTheFlag()
    {
        JavaScriptKernel.Command(["bun", "main.js"]).Skip(3).ShouldBe(["sh", "bun", "main.js"]);
    }

    [Fact]
    public void Source_IsTheEmbeddedKernel()
    {
        System.Text.Encoding.UTF8.GetString(JavaScriptKernel.Source.Span).ShouldContain("SBX-END");
        System.Text.Encoding.UTF8.GetString(BashKernel.Source.Span).ShouldContain("SBX-END");
    }
}
