using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Sandbox.Guard.Agents;
using Sandbox.Guard.Store;
using Sandbox.Server.IntegrationTests.Support;

namespace Sandbox.Server.IntegrationTests.Http;

/// <summary>
/// Artifacts through a real <c>sandbox serve</c> and a real dockerd (issue 14, point 1): listed in the result, downloadable
/// at <c>GET /v1/runs/{id}/artifacts/{path}</c> with their sniffed type and inert headers, kept in the store across a
/// restart, hashed in the audit record, and gone with the agent's revocation.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ArtifactDownloadTests
{
    private const string AdminKey = "artifact-test-admin-key-0123456789abcdef0123456789";

    // A CSV and a plot left open, plus an .html page that must come back inert.
    private const string Code = """
        import os
        import matplotlib.pyplot as plt
        os.makedirs('/tmp/outputs/tables', exist_ok=True)
        with open('/tmp/outputs/tables/squares.csv', 'w') as f:
            f.write(''.join(f'{i},{i*i}\n' for i in range(50)))
        with open('/tmp/outputs/page.html', 'w') as f:
            f.write('<script>alert(1)</script>')
        plt.figure(figsize=(6, 4), dpi=50)
        plt.plot(range(50), [i * i for i in range(50)])
        print('plotted')
        """;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_CsvPlotAndHtml_AreListedAndDownloadWithTheirTypesAndHashes()
    {
        await using var fixture = await Fixture.CreateAsync();
        var run = await fixture.RunAsync(Code);
        var result = run["result"]!;
        ((string)result["status"]!).ShouldBe("ok", run.ToJsonString());
        var artifacts = result["artifacts"]!.AsArray().ToDictionary(a => (string)a!["path"]!, a => a!);
        artifacts.Keys.ShouldBe(["figure-1.png", "page.html", "tables/squares.csv"], ignoreOrder: true);
        var id = (string)run["id"]!;

        var csvExpected = string.Concat(Enumerable.Range(0, 50).Select(i => $"{i},{i * i}\n"));
        var (csv, csvHeaders) = await fixture.DownloadAsync(id, "tables/squares.csv");
        System.Text.Encoding.UTF8.GetString(csv).ShouldBe(csvExpected);
        Convert.ToHexStringLower(SHA256.HashData(csv)).ShouldBe((string)artifacts["tables/squares.csv"]["sha256"]!);
        csvHeaders.ContentType!.ToString().ShouldBe("text/csv; charset=utf-8");
        csvHeaders.ContentDisposition!.DispositionType.ShouldBe("attachment");

        var (png, pngHeaders) = await fixture.DownloadAsync(id, "figure-1.png");
        pngHeaders.ContentType!.MediaType.ShouldBe("image/png");
        pngHeaders.ContentDisposition!.DispositionType.ShouldBe("inline");
        png.AsSpan(0, 8).SequenceEqual((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]).ShouldBeTrue();
        (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20))).ShouldBe((300, 200));
        ((long)artifacts["figure-1.png"]["sizeBytes"]!).ShouldBe(png.Length);

        var (html, htmlHeaders) = await fixture.DownloadAsync(id, "page.html");
        System.Text.Encoding.UTF8.GetString(html).ShouldBe("<script>alert(1)</script>");
        htmlHeaders.ContentType!.MediaType.ShouldBe("application/octet-stream");
        htmlHeaders.ContentDisposition!.DispositionType.ShouldBe("attachment");

        // The audit's result record names each file's hash.
        var record = (await fixture.Http.AdminGetAsync(AdminKey, $"/admin/v1/audit?run={id}&kind=result")).AsArray().Single()!;
        record["data"]!["artifacts"]!.AsArray().Select(a => ((string)a!["path"]!, (string)a["sha256"]!))
            .ShouldBe(artifacts.Select(a => (a.Key, (string)a.Value["sha256"]!)), ignoreOrder: true);
        ((bool)(await fixture.Http.AdminGetAsync(AdminKey, "/admin/v1/audit/verify"))["intact"]!).ShouldBeTrue();
    }

    [Fact]
    public async Task Download_AfterARestart_ComesFromTheStore_AndUnknownPathsAre404()
    {
        await using var fixture = await Fixture.CreateAsync();
        var run = await fixture.RunAsync("open('/tmp/outputs/data.json', 'w').write('{\"a\": 1}')");
        var id = (string)run["id"]!;
        var sha = (string)run["result"]!["artifacts"]![0]!["sha256"]!;

        await fixture.RestartAsync();

        var (json, headers) = await fixture.DownloadAsync(id, "data.json");
        Convert.ToHexStringLower(SHA256.HashData(json)).ShouldBe(sha);
        headers.ContentType!.MediaType.ShouldBe("application/json");
        // A name the result does not list is 404, whatever it looks like: the path is only ever compared with the listed names.
        // ("../x", even escaped, is resolved by the client before it is sent, and reaches no route at all.)
        foreach (var (path, code) in new[] { ("nope.txt", "artifact_not_found"), ("%2e%2e/%2e%2e/etc/passwd", "not_found"), ("../data.json", "not_found") })
        {
            using var response = await fixture.GetAsync($"/v1/runs/{id}/artifacts/{path}");
            var text = await response.Content.ReadAsStringAsync(Token);
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound, path);
            ((string)JsonNode.Parse(text)!["code"]!).ShouldBe(code, path);
            text.ShouldNotContain("root:");
        }

        using var unknownRun = await fixture.GetAsync("/v1/runs/run_0000000000000000000000000000dead/artifacts/data.json");
        unknownRun.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Revoke_AgentWithArtifacts_TheirBytesLeaveTheStoreAndNothingServesThem()
    {
        await using var fixture = await Fixture.CreateAsync();
        var run = await fixture.RunAsync("open('/tmp/outputs/secret.csv', 'w').write('token,s3cr3t\\n')");
        var id = (string)run["id"]!;
        (await fixture.DownloadAsync(id, "secret.csv")).Bytes.Length.ShouldBeGreaterThan(0);
        (await fixture.ArtifactRowsAsync(id)).ShouldBe(1);

        using var revoke = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/agents/plotter/revoke") { Content = JsonContent.Create(new { reason = "leaked", by = "test" }) };
        revoke.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        (await fixture.Http.SendAsync(revoke, Token)).StatusCode.ShouldBe(HttpStatusCode.OK);

        // The bytes are gone from the database itself, not only hidden behind the revoked key, and stay gone after a restart.
        (await fixture.ArtifactRowsAsync(id)).ShouldBe(0);
        using (var download = await fixture.GetAsync($"/v1/runs/{id}/artifacts/secret.csv"))
        {
            download.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        await fixture.RestartAsync();
        (await fixture.ArtifactRowsAsync(id)).ShouldBe(0);
        ((bool)(await fixture.Http.AdminGetAsync(AdminKey, "/admin/v1/audit/verify"))["intact"]!).ShouldBeTrue();
    }

    private sealed class Fixture : IAsyncDisposable
    {
        private readonly string _data;
        private readonly List<string> _runIds = [];
        private ServeProcess? _serve;

        private Fixture(string data, string key)
        {
            _data = data;
            Key = key;
        }

        public string Key { get; }

        public HttpClient Http => _serve!.Http;

        public static async Task<Fixture> CreateAsync()
        {
            var data = Path.Join(Path.GetTempPath(), "sandbox-artifact-tests-" + Guid.NewGuid().ToString("N"));
            await using var store = await SqliteGuardStore.OpenAsync(GuardPaths.Database(data), TimeProvider.System, Token);
            var created = await new AgentAdmin(store, TimeProvider.System).CreateAsync(new AgentSpec { Name = "plotter", Profiles = ["python"] }, "test", Token);
            var fixture = new Fixture(data, created.Value.ShouldNotBeNull(created.Message).Key);
            await fixture.StartAsync();
            return fixture;
        }

        private async Task StartAsync()
        {
            _serve = ServeProcess.Start(_data, AdminKey);
            await _serve.WaitHealthyAsync(Token);
        }

        public async Task RestartAsync()
        {
            _serve?.Dispose();
            await StartAsync();
        }

        public async Task<JsonNode> RunAsync(string code)
        {
            using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(new { language = "python", code }) };
            post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
            using var response = await Http.SendAsync(post, Token);
            var text = await response.Content.ReadAsStringAsync(Token);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
            var run = JsonNode.Parse(text)!;
            _runIds.Add((string)run["id"]!);
            return run;
        }

        /// <summary>Rows of the run's artifacts in the guard database, read behind the service's back.</summary>
        public async Task<long> ArtifactRowsAsync(string runId)
        {
            await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={GuardPaths.Database(_data)};Mode=ReadOnly;Pooling=False");
            await connection.OpenAsync(Token);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM run_artifacts WHERE run_id = $run";
            command.Parameters.AddWithValue("$run", runId);
            return (long)(await command.ExecuteScalarAsync(Token))!;
        }

        public async Task<HttpResponseMessage> GetAsync(string path)
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, path);
            get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
            return await Http.SendAsync(get, Token);
        }

        /// <summary>The bytes and content headers of an artifact, after checking the headers every download carries.</summary>
        public async Task<(byte[] Bytes, HttpContentHeaders Headers)> DownloadAsync(string runId, string path)
        {
            using var response = await GetAsync($"/v1/runs/{runId}/artifacts/{path}");
            var bytes = await response.Content.ReadAsByteArrayAsync(Token);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(bytes));
            response.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);
            response.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("sandbox");
            response.Headers.ETag!.Tag.ShouldBe($"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))}\"");
            return (bytes, response.Content.Headers);
        }

        public async ValueTask DisposeAsync()
        {
            _serve?.Dispose();
            foreach (var runId in _runIds)
            {
                await DockerProbe.RemoveContainersOfRunAsync(runId);
            }

            if (Directory.Exists(_data))
            {
                Directory.Delete(_data, recursive: true);
            }
        }
    }
}
