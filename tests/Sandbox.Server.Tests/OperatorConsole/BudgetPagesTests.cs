using System.Text.RegularExpressions;
using Sandbox.Guard.Audit;

namespace Sandbox.Server.OperatorConsole.Tests;

public sealed partial class BudgetPagesTests
{
    [Fact]
    public void Chart_DrawsABarOnlyForHoursWithUse_AndTheRunningTotalEndsAtTheSum()
    {
        var hourly = new double[BudgetPages.Hours];
        hourly[3] = 2;
        hourly[23] = 5;
        var html = new ConsoleHtml();

        BudgetPages.Chart(html, "c", "Runs", hourly, cap: 10, "0");

        var svg = html.ToString();
        Bar().Count(svg).ShouldBe(2);
        svg.ShouldContain("data-total=\"7\" data-cap=\"10\"");
        svg.ShouldContain("Runs in the last 24 h: 7 of a cap of 10 a day (70 %)");
        svg.ShouldContain("<title>1 to 0 h ago: 5 (total 7)</title>");
        svg.ShouldContain("class=\"cap\"");
        // The line ends at the total: its last point is as high as 7 on a scale whose top is 10 × 1.08.
        var last = Points().Match(svg).Groups["last"].Value.Split(',');
        double.Parse(last[1], System.Globalization.CultureInfo.InvariantCulture).ShouldBe(128 - (120 * 7 / 10.8), 0.01);
    }

    [Fact]
    public void Chart_OverTheCap_MarksTheCapLineAndStaysInsideTheBox()
    {
        var hourly = new double[BudgetPages.Hours];
        hourly[0] = 30;

        var html = new ConsoleHtml();
        BudgetPages.Chart(html, "c", "CPU seconds", hourly, cap: 20, "0.#");

        var svg = html.ToString();
        svg.ShouldContain("class=\"cap over\"");
        svg.ShouldContain("(150 %)");
        Ys().Matches(svg).Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ShouldAllBe(y => y >= 0 && y <= 150);
    }

    [Theory]
    [InlineData("ok", "{\"usage\":{\"cpuMs\":1500,\"compileCpuMs\":500}}", 2.0)]
    [InlineData("ok", "{\"usage\":{\"cpuMs\":250,\"compileCpuMs\":null}}", 0.25)]
    [InlineData("sandbox_error", "{\"usage\":{\"cpuMs\":9000}}", 0.0)] // our failure is not charged, as RunPolicy charges
    [InlineData("ok", "not json", 0.0)]
    public void CpuSeconds_ChargesAsTheGuardDoes(string status, string data, double expected) =>
        BudgetPages.CpuSeconds(new AuditRecord { Sequence = 1, Time = DateTimeOffset.UnixEpoch, Kind = "result", Status = status, Data = data, PreviousHash = "", Hash = "" }).ShouldBe(expected);

    [GeneratedRegex("<rect class=\"bar\"")]
    private static partial Regex Bar();

    [GeneratedRegex("class=\"total\" points=\"[^\"]* (?<last>[0-9.]+,[0-9.]+)\"")]
    private static partial Regex Points();

    [GeneratedRegex(" y[12]?=\"([-0-9.]+)\"")]
    private static partial Regex Ys();
}
