using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sandbox.Core.Artifacts;
using Sandbox.Core.Limits;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Support;
using Sandbox.Testing;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>
/// The service's own memory while programs flood <c>/tmp/outputs</c> (issue 14: "an artifact flood is capped"): the harm
/// is the host's RSS, not only the verdict. Each run writes 80 files of 512 KiB and one of 15 MiB, about seven times the
/// profile's total cap, several runs at once and several times over; the serve process's peak RSS must rise by no more
/// than what the caps let it hold, every cap must hold, and every file not returned must be named with its reason.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ArtifactFloodMemoryTests
{
    private const string AdminKey = "artifact-flood-admin-key-0123456789abcdef0123456789ab";

    private const int SmallFiles = 400;
    private const int SmallFileBytes = 128 * 1024;
    private const int HugeFileMiB = 8;

    /// <summary>
    /// The profile's caps for this test: small next to the flood (1 MiB kept of 58 MiB written per run), so that what the
    /// caps let the service hold is small and any share of the flood it held instead would stand out.
    /// </summary>
    private static readonly ArtifactLimits s_caps = new(MaxFiles: 16, MaxFileBytes: 256 * 1024, MaxTotalBytes: 1024 * 1024);

    /// <summary>Runs at once: the agent's and the service's concurrency (one per core on the 2-core CI machine).</summary>
    private const int AtOnce = 2;

    private const int Rounds = 3;

    private const int WarmRounds = 2;

    /// <summary>The serve process's gen0 allocation budget for this test: garbage younger than one collection.</summary>
    private const long Gen0BudgetBytes = 4L * 1024 * 1024;

    // urandom, so nothing along the way (tar, tmpfs, the store) can shrink it.
    private static readonly string s_flood = $$"""
        import os
        with open('/tmp/outputs/huge.bin', 'wb') as f:
            for _ in range({{HugeFileMiB}}):
                f.write(os.urandom(1024 * 1024))
        for i in range({{SmallFiles}}):
            with open(f'/tmp/outputs/part-{i:03}.bin', 'wb') as f:
                f.write(os.urandom({{SmallFileBytes}}))
        print('flooded')
        """;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Flood_ManyFilesAndAHugeOne_ServiceRssBoundedByTheCaps_CapsHold_DroppedNamed()
    {
        var caps = s_caps;
        var written = (long)SmallFiles * SmallFileBytes + HugeFileMiB * 1024L * 1024;
        written.ShouldBeGreaterThan(5 * caps.MaxTotalBytes, "the flood must be far past the total cap, or the bound proves nothing");

        var data = Path.Join(Path.GetTempPath(), "sandbox-artifact-flood-" + Guid.NewGuid().ToString("N"));
        string key;
        await using (var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(data), TimeProvider.System, Token))
        {
            var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(
                new AgentSpec { Name = "flooder", Profiles = ["python"], MaxConcurrentRuns = AtOnce, RatePerMinute = 100 }, "test", Token);
            key = created.Value.ShouldNotBeNull(created.Message).Key;
        }

        var serve = ServeProcess.Start(data, AdminKey, profiles: ProfilesWithCaps(data), environment: new Dictionary<string, string>
        {
            ["Sandbox__MaxConcurrentRuns"] = AtOnce.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Workstation GC, not concurrent: garbage is collected within a small gen0 budget, so the peak is what the service
            // holds. Server GC (the default) lets garbage grow to its own budgets first, which says nothing about what we keep.
            ["DOTNET_gcServer"] = "0",
            ["DOTNET_gcConcurrent"] = "0",
            // And a fixed gen0 budget, so the garbage the runtime may hold before collecting is a known quantity.
            ["DOTNET_GCgen0size"] = Gen0BudgetBytes.ToString("x", System.Globalization.CultureInfo.InvariantCulture),
            ["DOTNET_GCgen0MaxBudget"] = Gen0BudgetBytes.ToString("x", System.Globalization.CultureInfo.InvariantCulture),
        });
        var runIds = new List<string>();
        try
        {
            await serve.WaitHealthyAsync(Token);

            // Warm: floods of the same shape run first, so that what is loaded, jitted and re-jitted at a higher tier (the
            // tar reader's loops are hot), and the pools the runtime sizes once, are in place before the peak is reset.
            // What is measured after it is then what the floods hold.
            for (var round = 0; round < WarmRounds; round++)
            {
                foreach (var warm in await Task.WhenAll(Enumerable.Range(0, AtOnce).Select(_ => RunAsync(serve, key, s_flood))))
                {
                    runIds.Add((string)warm["id"]!);
                    CheckCapsHeld(warm, caps);
                }
            }

            serve.ResetPeak();
            var before = serve.ResidentBytes();
            var previous = before;
            var steps = new List<long>();
            for (var round = 0; round < Rounds; round++)
            {
                foreach (var run in await Task.WhenAll(Enumerable.Range(0, AtOnce).Select(_ => RunAsync(serve, key, s_flood))))
                {
                    runIds.Add((string)run["id"]!);
                    CheckCapsHeld(run, caps);
                }

                var peakNow = serve.PeakResidentBytes();
                steps.Add(peakNow - previous);
                previous = peakNow;
            }

            var growth = previous - before;

            // What the caps let the service hold for one round: for each run in flight, its admitted bytes (at most
            // MaxTotalBytes) in three places at most (the reader's buffers, the result, the store write), one tar entry being
            // read past (at most MaxFileBytes), and the garbage one gen0 budget allows. Dropped bytes are read past, never kept.
            var perRound = (AtOnce * ((3 * caps.MaxTotalBytes) + caps.MaxFileBytes)) + Gen0BudgetBytes;
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"[artifact flood] {Rounds} rounds of {AtOnce} runs at once (after {WarmRounds} warm rounds), each writing {written / (1024 * 1024)} MiB into /tmp/outputs " +
                $"(caps {caps.MaxFiles} files, {caps.MaxFileBytes / 1024} KiB/file, {caps.MaxTotalBytes / 1024} KiB total): serve RSS {before / (1024 * 1024)} MiB before, " +
                $"peak growth {growth / (1024 * 1024.0):0.0} MiB (by round: {string.Join(", ", steps.Select(x => (x / (1024 * 1024.0)).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))} MiB), " +
                $"per-round bound {perRound / (1024 * 1024.0):0.0} MiB; the measured runs wrote {Rounds * AtOnce * written / (1024 * 1024)} MiB");

            // Holding the dropped bytes of even one run would cost its whole flood; the measured rounds wrote six of them.
            growth.ShouldBeLessThan(written, $"the service's peak RSS rose by {growth / (1024 * 1024.0):0.0} MiB, as much as one run's flood");
            // After the first round (pools and caches warm to this load), a round adds no more than the caps let it hold:
            // memory that kept growing with each round would be the flood, or the returned files, kept run after run.
            steps.Skip(1).ShouldAllBe(step => step < perRound, $"peak RSS growth by round: {string.Join(", ", steps)} bytes; the caps allow {perRound} a round");
        }
        finally
        {
            serve.Dispose();
            foreach (var id in runIds)
            {
                await DockerProbe.RemoveContainersOfRunAsync(id);
            }

            Directory.Delete(data, recursive: true);
        }
    }

    private static void CheckCapsHeld(JsonNode run, ArtifactLimits caps)
    {
        var result = run["result"]!;
        ((string?)result["status"]).ShouldBe("ok", run.ToJsonString());
        ((string?)result["stdout"]).ShouldBe("flooded\n");
        var kept = result["artifacts"]!.AsArray().Select(a => ((string)a!["path"]!, (long)a["sizeBytes"]!)).ToList();
        var dropped = result["artifactsDropped"]!.AsArray().ToDictionary(d => (string)d!["path"]!, d => (string)d!["reason"]!);

        kept.Count.ShouldBeLessThanOrEqualTo(caps.MaxFiles);
        kept.ShouldAllBe(k => k.Item2 <= caps.MaxFileBytes);
        kept.Sum(k => k.Item2).ShouldBeLessThanOrEqualTo(caps.MaxTotalBytes);
        kept.Sum(k => k.Item2).ShouldBe(Math.Min(caps.MaxFiles, caps.MaxTotalBytes / SmallFileBytes) * SmallFileBytes, "as many whole parts as the caps hold");

        // Every file written is returned, named with why it was not, or counted in the one entry that sums up the drops
        // past the first ArtifactGatherer.MaxDroppedListed (the list is bounded too).
        var all = Enumerable.Range(0, SmallFiles).Select(i => $"part-{i:000}.bin").Append("huge.bin").ToHashSet();
        var named = dropped.Keys.Where(p => p != "*").ToList();
        named.Count.ShouldBe(ArtifactGatherer.MaxDroppedListed);
        kept.Select(k => k.Item1).Concat(named).ShouldBeSubsetOf(all);
        kept.Select(k => k.Item1).Intersect(named).ShouldBeEmpty();
        dropped["huge.bin"].ShouldBe(DropReasons.FileTooLarge);
        dropped["*"].ShouldBe(DropReasons.NotListed);
        var summary = (string)result["artifactsDropped"]!.AsArray().Single(d => (string)d!["path"]! == "*")!["detail"]!;
        summary.ShouldStartWith($"{all.Count - kept.Count - named.Count} more files were dropped");
        named.Where(p => p != "huge.bin").Select(p => dropped[p]).ShouldAllBe(r => r == DropReasons.TotalTooLarge || r == DropReasons.TooManyFiles);
    }

    /// <summary>A profiles folder holding the python profile only, with <see cref="s_caps"/> as its artifact caps.</summary>
    private static string ProfilesWithCaps(string data)
    {
        var profiles = JsonNode.Parse(File.ReadAllText(Path.Join(RepositoryRoot.Path, "images", "python", "profile.json")))!;
        var python = profiles["profiles"]!["python"]!.DeepClone();
        python["artifacts"] = new JsonObject { ["maxFiles"] = s_caps.MaxFiles, ["maxFileBytes"] = s_caps.MaxFileBytes, ["maxTotalBytes"] = s_caps.MaxTotalBytes };
        var folder = Path.Join(data, "profiles", "python");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Join(folder, "profile.json"), new JsonObject { ["profiles"] = new JsonObject { ["python"] = python } }.ToJsonString());
        var packages = Path.Join(RepositoryRoot.Path, "images", "python", "build", "packages.json");
        if (File.Exists(packages))
        {
            Directory.CreateDirectory(Path.Join(folder, "build"));
            File.Copy(packages, Path.Join(folder, "build", "packages.json"));
        }

        return Path.Join(data, "profiles");
    }

    private static async Task<JsonNode> RunAsync(ServeProcess serve, string key, string code)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(new { language = "python", code }) };
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await serve.Http.SendAsync(post, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!;
    }
}
