using System.Diagnostics;
using System.Net;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Faults;

/// <summary>
/// The data folder's disk reserve (<c>Sandbox:MinFreeDataDiskMb</c>), on a real small disk: the service's data folder is
/// a 96 MiB tmpfs this test mounts, with a 48 MiB reserve, and a filler file takes the free space below it while a run is
/// in flight. Before the reserve, the service's growth (the audit log keeps every admitted run's code) ran until the disk
/// was full, failing the host's other writers too; FullDiskTests shows what a full disk does to the service itself.
/// </summary>
[Collection(FaultInjectionCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DataDiskReserveTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BelowTheReserve_NewRunsAre503NamingIt_ReadyzIsNotReady_TheRunInFlightIsRecorded_AndRoomBringsThemBack()
    {
        await using var disk = await SmallDisk.MountAsync("reserve", 96);
        await using var service = FaultService.Create("reserve", disk.Mount.FullName);
        var key = await service.CreateAgentAsync("reserve");
        await service.StartAsync(new Dictionary<string, string> { ["Sandbox__LogDirectory"] = disk.Logs.FullName, ["Sandbox__MinFreeDataDiskMb"] = "48" });
        var (slowStatus, slow, slowResponse) = await service.PostRunAsync(key, new { language = "bash", code = "sleep 2; echo finished", @async = true, purpose = "in flight when the disk runs low" });
        slowResponse.Dispose();
        slowStatus.ShouldBe(HttpStatusCode.Accepted, slow.ToJsonString());
        var slowId = slow["id"]!.GetValue<string>();
        await service.Http.WaitForRunStateAsync(key, slowId, "running");

        // Leave about 32 MiB free: below the reserve, far from full.
        var filler = Path.Join(disk.Mount.FullName, "filler");
        var free = new DriveInfo(disk.Mount.FullName).AvailableFreeSpace;
        await File.WriteAllBytesAsync(filler, new byte[free - (32L * 1024 * 1024)], Token);
        var before = DatabaseBytes(service.Data);
        var seen = Stopwatch.StartNew();
        while ((await service.ReadyzAsync()).Store is not false)
        {
            seen.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1.5), "/readyz says the store is not ready within about a second (free space is read at most every half second)");
            await Task.Delay(50, Token);
        }

        var (refusedStatus, refused, refusedResponse) = await service.PostRunAsync(key, new { language = "bash", code = "echo no room", purpose = "below the reserve" });
        refusedResponse.Dispose();
        refusedStatus.ShouldBe(HttpStatusCode.ServiceUnavailable, refused.ToJsonString());
        ((string?)refused["code"]).ShouldBe("store_unavailable");
        ((string?)refused["detail"]).ShouldNotBeNull().ShouldContain("Sandbox:MinFreeDataDiskMb");
        refusedResponse.Headers.RetryAfter.ShouldNotBeNull();

        // The run admitted before ends, and its end is recorded: the reserve is the room it needed.
        var done = await service.WaitCompletedAsync(key, slowId);
        ((string?)done["result"]!["status"]).ShouldBe("ok", done.ToJsonString());
        (await service.AuditAsync($"?run={slowId}&kind=result")).Select(r => (string?)r!["status"]).ShouldBe(["ok"]);
        (await service.AuditAsync("?kind=request")).Count.ShouldBe(1, "the refused request wrote nothing");
        (DatabaseBytes(service.Data) - before).ShouldBeLessThan(8L * 1024 * 1024, "only the run in flight's end was written");

        File.Delete(filler);
        var clock = Stopwatch.StartNew();
        while ((await service.ReadyzAsync()).Store is not true)
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2), "ready again within about a second of room coming back");
            await Task.Delay(50, Token);
        }

        await service.AssertFollowUpAdmittedAsync(key, "reserve");
        await service.AssertNoContainerLeftAsync(TimeSpan.FromSeconds(5));
        service.Serve!.Kill();
        await service.AssertAuditIntactAsync();
    }

    private static long DatabaseBytes(string folder) =>
        Directory.GetFiles(folder, Sandbox.Guard.Store.GuardPaths.DatabaseFileName + "*").Sum(f => new FileInfo(f).Length);
}
