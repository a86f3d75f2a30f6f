namespace Sandbox.CSharpRunner.Tests;

public sealed class DirectiveGuardTests
{
    [Fact]
    public void FindRefused_ReferenceAndLoad_ReportsEachWithItsLine()
    {
        var refused = DirectiveGuard.FindRefused("#r \"System.Net.Http\"\n#load \"other.csx\"\nConsole.WriteLine(1);\n", "main.csx");

        refused.Count.ShouldBe(2);
        refused[0].ShouldStartWith("main.csx(1,1): error SANDBOX001: #r is not allowed");
        refused[1].ShouldStartWith("main.csx(2,1): error SANDBOX001: #load is not allowed");
    }

    [Fact]
    public void FindRefused_PlainScript_ReportsNothing()
    {
        DirectiveGuard.FindRefused("#nullable enable\nConsole.WriteLine(\"#r not a directive\");\n", "main.csx").ShouldBeEmpty();
    }
}
