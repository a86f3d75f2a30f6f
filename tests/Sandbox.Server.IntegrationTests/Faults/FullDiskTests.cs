using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Faults;

/// <summary>
/// Fault 7 of issue 11, on a real full disk: the service's data folder lives on a 16 MiB tmpfs this test mounts, filled
/// with a filler file once the service is up and its agent exists. Before, every POST (even with a bad key) was a bare
/// 500, /readyz stayed ready, a failed write at admission leaked the agent's slot and CPU reservation, and a run whose
/// result could not be written was answered <c>ok</c> and recorded <c>interrupted</c> after a restart.
/// </summary>
[Collection(FaultInjectionCollection.Name)]
[Trait("Category", "Integration")]
public sealed class FullDiskTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FullDataDisk_PostsAreClearProblems_ReadyzNamesTheStore_NothingLeaks_AndARestartAgrees()
    {
        await using var disk = await SmallDisk.MountAsync("fulldisk", 16);
        await using var service = FaultService.Create("fulldisk", disk.Mount.FullName);
        var key = await service.CreateAgentAsync("fulldisk");
        // The disk reserve is off: this test is about the disk actually full (DataDiskReserveTests keeps it from filling).
        var environment = new Dictionary<string, string> { ["Sandbox__LogDirectory"] = disk.Logs.FullName, ["Sandbox__MinFreeDataDiskMb"] = "0" };
        await service.StartAsync(environment);
        var (warmStatus, warm, warmResponse) = await service.PostRunAsync(key, new { language = "bash", code = "echo before", purpose = "the disk still has room" });
        warmResponse.Dispose();
        warmStatus.ShouldBe(HttpStatusCode.OK, warm.ToJsonString());
        ((string?)warm["result"]!["status"]).ShouldBe("ok", warm.ToJsonString());
        (await service.ReadyzAsync()).Store.ShouldBe(true, "the store writes before the disk is full");

        // A run in flight when the disk fills: its end cannot be written, and it must not be answered ok for that.
        var (slowStatus, slow, slowResponse) = await service.PostRunAsync(key, new { language = "bash", code = "sleep 2; echo finished", @async = true, purpose = "finish on a full disk" });
        slowResponse.Dispose();
        slowStatus.ShouldBe(HttpStatusCode.Accepted, slow.ToJsonString());
        var slowId = slow["id"]!.GetValue<string>();
        await service.Http.WaitForRunStateAsync(key, slowId, "running");

        var filler = Path.Join(disk.Mount.FullName, "filler");
        var filled = Fill(filler);
        var clock = Stopwatch.StartNew();
        while ((await service.ReadyzAsync()).Store is not false)
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1.5), "/readyz says the store cannot write within about a second");
            await Task.Delay(50, Token);
        }

        var notReadyAfter = clock.Elapsed;
        var statuses = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < 5; i++)
        {
            var (status, problem) = await PostRawAsync(service, key, new { language = "bash", code = $"echo full {i}", purpose = "the disk is full" });
            Count(statuses, status, problem);
            problem.ContentType.ShouldBe("application/problem+json", problem.Body.ToJsonString());
            status.ShouldBe(HttpStatusCode.ServiceUnavailable, problem.Body.ToJsonString());
            ((string?)problem.Body["code"]).ShouldBe("store_unavailable", problem.Body.ToJsonString());
        }

        var (badStatus, bad) = await PostRawAsync(service, WrongSecret(key), new { language = "bash", code = "echo no", purpose = "a bad key on a full disk" });
        Count(statuses, badStatus, bad);
        badStatus.ShouldBe(HttpStatusCode.Unauthorized, bad.Body.ToJsonString());
        bad.ContentType.ShouldBe("application/problem+json");

        // The run in flight ends while the disk is full: whatever it is answered is what is recorded, now and after a restart.
        await service.WaitCompletedAsync(key, slowId);
        var (_, answeredDuring) = await service.GetRunAsync(key, slowId);
        var statusDuring = (string?)answeredDuring!["result"]!["status"];

        File.Delete(filler);
        clock.Restart();
        while ((await service.ReadyzAsync()).Store is not true)
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1.5), "/readyz says the store writes again within about a second of space coming back");
            await Task.Delay(50, Token);
        }

        var readyAgainAfter = clock.Elapsed;
        clock.Restart();
        await service.AssertFollowUpAdmittedAsync(key, "fulldisk");
        var followUp = clock.Elapsed;
        var rss = service.RssMiB();

        service.Serve!.Kill();
        await service.StartAsync(environment);
        var (afterStatus, after) = await service.GetRunAsync(key, slowId);
        afterStatus.ShouldBe(HttpStatusCode.OK, after?.ToJsonString());
        var statusAfter = (string?)after!["result"]!["status"];
        var recorded = (await service.AuditAsync($"?run={slowId}&kind=result")).Select(r => (string?)r!["status"]).ToList();
        FaultService.Report(FaultService.Invariant(
            $"fault 7: filler {filled / 1048576.0:0.0} MiB; /readyz not ready after {notReadyAfter.TotalMilliseconds:0} ms, ready again {readyAgainAfter.TotalMilliseconds:0} ms after space came back; POSTs on the full disk: {string.Join(", ", statuses.Select(s => s.Key + " x" + s.Value))}; the run ending on the full disk was answered {statusDuring}, after a restart {statusAfter}, audited [{string.Join(", ", recorded)}]; follow-up admitted in {followUp.TotalMilliseconds:0} ms; RSS {rss:0} MiB"));
        recorded.Count.ShouldBe(1, "one final record for the run that ended on the full disk");
        statusAfter.ShouldBe(recorded[0] == "interrupted" ? "sandbox_error" : recorded[0], "after a restart the run reads as it was recorded");
        statusDuring.ShouldBe(statusAfter, "the run was answered what is recorded: never ok in memory and otherwise on disk");

        await service.AssertNoContainerLeftAsync(TimeSpan.FromSeconds(5));
        service.Serve!.Kill();
        await service.AssertAuditIntactAsync();
    }

    /// <summary>Writes zeros until the filesystem refuses (ENOSPC), flushed to the device; returns the bytes written.</summary>
    private static long Fill(string path)
    {
        var chunk = new byte[1 << 20];
        long written = 0;
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough);
        try
        {
            while (true)
            {
                stream.Write(chunk);
                written += chunk.Length;
            }
        }
        catch (IOException)
        {
            // Full in 1 MiB steps; fill the rest a page at a time so no whole page is left for the store.
        }

        try
        {
            while (true)
            {
                stream.Write(chunk, 0, 4096);
                written += 4096;
            }
        }
        catch (IOException)
        {
            // Full.
        }

        return written;
    }

    /// <summary>The agent's key with its secret's last character changed: well formed, looked up, and wrong.</summary>
    private static string WrongSecret(string key) => key[..^1] + (key[^1] == 'a' ? 'b' : 'a');

    private static void Count(Dictionary<string, int> statuses, HttpStatusCode status, (string? ContentType, JsonObject Body) problem)
    {
        var name = FaultService.Invariant($"{(int)status} {(string?)problem.Body["code"] ?? "?"}");
        statuses[name] = statuses.GetValueOrDefault(name) + 1;
    }

    private static async Task<(HttpStatusCode Status, (string? ContentType, JsonObject Body) Problem)> PostRawAsync(FaultService service, string key, object body)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(body) };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await service.Http.SendAsync(post, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        response.StatusCode.ShouldNotBe(HttpStatusCode.InternalServerError, "never a bare 500: " + text);
        return (response.StatusCode, (response.Content.Headers.ContentType?.MediaType, text.StartsWith('{') ? (JsonObject)JsonNode.Parse(text)! : new JsonObject { ["raw"] = text }));
    }
}
