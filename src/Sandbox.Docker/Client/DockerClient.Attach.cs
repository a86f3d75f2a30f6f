using System.Net.Sockets;
using System.Text;

namespace Sandbox.Docker.Client;

/// <summary>Attach: HttpClient cannot hand over a hijacked connection, so this call speaks HTTP/1.1 on a raw socket.</summary>
public sealed partial class DockerClient
{
    // The daemon answers an attach with no body larger than an error message.
    private const int MaxAttachErrorBodyBytes = 64 * 1024;

    /// <inheritdoc />
    /// <remarks>
    /// Sends what the Docker CLI sends (<c>Connection: Upgrade</c>, <c>Upgrade: tcp</c>) and expects
    /// <c>101 UPGRADED</c> (or 200 from daemons that do not upgrade); after the head, the socket carries stdin one
    /// way and multiplexed stdout/stderr the other. Attach before start so no early output is lost. The token only
    /// bounds the handshake; the returned stream outlives it.
    /// </remarks>
    public async Task<IAttachedStream> AttachAsync(string id, CancellationToken cancellationToken)
    {
        const DockerOperation operation = DockerOperation.AttachContainer;
        string target = $"{await GetApiPrefixAsync(cancellationToken)}/containers/{Segment(id)}/attach?stream=1&stdin=1&stdout=1&stderr=1";
        byte[] request = Encoding.ASCII.GetBytes(
            $"POST {target} HTTP/1.1\r\n" +
            "Host: docker\r\n" +
            $"User-Agent: {UserAgent}\r\n" +
            "Content-Type: text/plain\r\n" +
            "Content-Length: 0\r\n" +
            "Connection: Upgrade\r\n" +
            "Upgrade: tcp\r\n" +
            "\r\n");

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        NetworkStream? network = null;
        bool handedOver = false;
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(_endpoint.SocketPath), cancellationToken);
            network = new NetworkStream(socket, ownsSocket: true);
            await network.WriteAsync(request, cancellationToken);

            var reader = new HttpResponseHeadReader(network, operation.Endpoint());
            HttpResponseHead head = await reader.ReadHeadAsync(cancellationToken);
            if (head.StatusCode is 101 or 200)
            {
                // Whatever was read past the blank line already belongs to the multiplexed stream.
                var attached = new AttachedStream(socket, network, reader.Buffered, id);
                handedOver = true;
                return attached;
            }

            string body = await reader.ReadBodyAsync(head, MaxAttachErrorBodyBytes, cancellationToken);
            throw DockerErrorMapper.FromStatus(operation, head.StatusCode, ParseDaemonMessage(body), id);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            // The caller cancelled mid-call (a run being killed): that is cancellation, not an unreachable daemon.
            cancellationToken.ThrowIfCancellationRequested();
            throw DockerErrorMapper.Unreachable(operation, _endpoint.SocketPath, ex);
        }
        finally
        {
            if (!handedOver)
            {
                if (network is not null)
                {
                    await network.DisposeAsync();
                }
                else
                {
                    socket.Dispose();
                }
            }
        }
    }
}
