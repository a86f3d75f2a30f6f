using Sandbox.Docker.Execution;

namespace Sandbox.Docker.Tests.Execution;

public sealed class OutputCollectorTests
{
    [Fact]
    public void Append_UpToTheCap_KeepsEverythingAndIsNotTruncated()
    {
        var collector = new OutputCollector(4);

        collector.Append("ab"u8).ShouldBeFalse();
        collector.Append("cd"u8).ShouldBeFalse();

        collector.Truncated.ShouldBeFalse();
        collector.ToArray().ShouldBe("abcd"u8.ToArray());
    }

    [Fact]
    public void Append_CrossingTheCap_ReportsOnceKeepsTheCapAndCountsEverything()
    {
        var collector = new OutputCollector(4);

        collector.Append("abc"u8).ShouldBeFalse();
        collector.Append("def"u8).ShouldBeTrue();
        collector.Append("ghi"u8).ShouldBeFalse();

        collector.Truncated.ShouldBeTrue();
        collector.TotalBytes.ShouldBe(9);
        collector.ToArray().ShouldBe("abcd"u8.ToArray());
    }
}
