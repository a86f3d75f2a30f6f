using System.Text.Json;

namespace Sandbox.Docker.Client;

/// <summary>The Engine API calls, each with its own status handling (see <see cref="DockerErrorMapper"/>).</summary>
public sealed partial class DockerClient
{
    /// <inheritdoc />
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        // Unversioned on purpose: ping must work before (and without) version negotiation.
        using HttpResponseMessage response = await SendAsync(DockerOperation.Ping, HttpMethod.Get, "/_ping", null, cancellationToken);
        await EnsureSuccessAsync(DockerOperation.Ping, response, null, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Unversioned, so it answers even for a daemon too old for this client (doctor shows that version).</remarks>
    public Task<DockerVersion> GetVersionAsync(CancellationToken cancellationToken) =>
        GetJsonAsync(DockerOperation.Version, HttpMethod.Get, "/version", null, DockerJsonContext.Default.DockerVersion, cancellationToken);

    /// <inheritdoc />
    public async Task<DockerInfo> GetInfoAsync(CancellationToken cancellationToken)
    {
        string prefix = await GetApiPrefixAsync(cancellationToken);
        return await GetJsonAsync(DockerOperation.Info, HttpMethod.Get, $"{prefix}/info", null, DockerJsonContext.Default.DockerInfo, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<string> CreateContainerAsync(ContainerCreateRequest request, string? name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        string prefix = await GetApiPrefixAsync(cancellationToken);
        string query = name is null ? "" : "?name=" + Uri.EscapeDataString(name);
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(request, DockerJsonContext.Default.ContainerCreateRequest);
        ContainerCreateResponse created = await GetJsonAsync(
            DockerOperation.CreateContainer, HttpMethod.Post, $"{prefix}/containers/create{query}", request.Image,
            DockerJsonContext.Default.ContainerCreateResponse, cancellationToken, body);
        return string.IsNullOrEmpty(created.Id)
            ? throw new DockerException(
                "POST /containers/create answered without a container id; is DOCKER_HOST pointing at a Docker Engine?",
                DockerOperation.CreateContainer.Endpoint(), 201)
            : created.Id;
    }

    /// <inheritdoc />
    public async Task StartContainerAsync(string id, CancellationToken cancellationToken)
    {
        string path = $"{await GetApiPrefixAsync(cancellationToken)}/containers/{Segment(id)}/start";
        using HttpResponseMessage response = await SendAsync(DockerOperation.StartContainer, HttpMethod.Post, path, null, cancellationToken);
        // 204 started, 304 already running: both leave the container running.
        await EnsureSuccessAsync(DockerOperation.StartContainer, response, id, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Uses <c>condition=not-running</c>: call it after <see cref="StartContainerAsync"/> (before start it returns
    /// at once, because a created container is not running). Unlike <c>next-exit</c> it cannot hang when the
    /// container already exited between start and wait. The daemon sends headers at once and the body when the
    /// container stops, so this call lasts as long as the container; cancel it with the token.
    /// </remarks>
    public async Task<ContainerWaitResponse> WaitContainerAsync(string id, CancellationToken cancellationToken)
    {
        string path = $"{await GetApiPrefixAsync(cancellationToken)}/containers/{Segment(id)}/wait?condition=not-running";
        return await GetJsonAsync(DockerOperation.WaitContainer, HttpMethod.Post, path, id, DockerJsonContext.Default.ContainerWaitResponse, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<bool> KillContainerAsync(string id, string signal, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(signal);
        string path = $"{await GetApiPrefixAsync(cancellationToken)}/containers/{Segment(id)}/kill?signal={Uri.EscapeDataString(signal)}";
        using HttpResponseMessage response = await SendAsync(DockerOperation.KillContainer, HttpMethod.Post, path, null, cancellationToken);
        // 409: not running (already exited); 404: already removed. Both mean there is nothing left to kill.
        if ((int)response.StatusCode is 404 or 409)
        {
            return false;
        }

        await EnsureSuccessAsync(DockerOperation.KillContainer, response, id, cancellationToken);
        return true;
    }

    /// <inheritdoc />
    public async Task RenameContainerAsync(string id, string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        string path = $"{await GetApiPrefixAsync(cancellationToken)}/containers/{Segment(id)}/rename?name={Uri.EscapeDataString(name)}";
        using HttpResponseMessage response = await SendAsync(DockerOperation.RenameContainer, HttpMethod.Post, path, null, cancellationToken);
        await EnsureSuccessAsync(DockerOperation.RenameContainer, response, id, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<bool> RemoveContainerAsync(string id, CancellationToken cancellationToken)
    {
        // force: kill it if still running; v: drop its anonymous volumes so nothing of the run survives.
        string path = $"{await GetApiPrefixAsync(cancellationToken)}/containers/{Segment(id)}?force=true&v=true";
        using HttpResponseMessage response = await SendAsync(DockerOperation.RemoveContainer, HttpMethod.Delete, path, null, cancellationToken);
        if ((int)response.StatusCode == 404)
        {
            return false;
        }

        await EnsureSuccessAsync(DockerOperation.RemoveContainer, response, id, cancellationToken);
        return true;
    }

    /// <inheritdoc />
    public async Task<ContainerInspectResponse> InspectContainerAsync(string id, CancellationToken cancellationToken)
    {
        string path = $"{await GetApiPrefixAsync(cancellationToken)}/containers/{Segment(id)}/json";
        return await GetJsonAsync(DockerOperation.InspectContainer, HttpMethod.Get, path, id, DockerJsonContext.Default.ContainerInspectResponse, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(IReadOnlyList<string> labelFilters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(labelFilters);
        string path = $"{await GetApiPrefixAsync(cancellationToken)}/containers/json?all=true";
        if (labelFilters.Count > 0)
        {
            path += "&filters=" + Uri.EscapeDataString(LabelFilterJson(labelFilters));
        }

        return await GetJsonAsync(DockerOperation.ListContainers, HttpMethod.Get, path, null, DockerJsonContext.Default.ListContainerSummary, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<ImageInspectResponse?> InspectImageAsync(string name, CancellationToken cancellationToken)
    {
        string path = $"{await GetApiPrefixAsync(cancellationToken)}/images/{Segment(name)}/json";
        using HttpResponseMessage response = await SendAsync(DockerOperation.InspectImage, HttpMethod.Get, path, null, cancellationToken);
        if ((int)response.StatusCode == 404)
        {
            return null;
        }

        await EnsureSuccessAsync(DockerOperation.InspectImage, response, name, cancellationToken);
        return await ReadJsonAsync(DockerOperation.InspectImage, response, DockerJsonContext.Default.ImageInspectResponse, cancellationToken);
    }

    /// <summary>The <c>filters</c> query value: <c>{"label":["k=v","k2"]}</c> (the daemon ANDs label filters).</summary>
    internal static string LabelFilterJson(IReadOnlyList<string> labelFilters)
    {
        var filters = new Dictionary<string, List<string>> { ["label"] = [.. labelFilters] };
        return JsonSerializer.Serialize(filters, DockerJsonContext.Default.DictionaryStringListString);
    }
}
