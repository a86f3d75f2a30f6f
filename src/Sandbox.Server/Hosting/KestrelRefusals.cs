using System.IO.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Sandbox.Server.Hosting;

/// <summary>
/// Kestrel answers a request it cannot parse (a bad request line or header, a target or headers over its limits, an
/// HTTP version it does not speak, headers sent too slowly) by itself, before any of our code runs, with a bare
/// 400/408/414/431, or a 505: a 5xx caused by input. No app hook sees those requests, so this works one level down:
/// a connection middleware puts <see cref="KestrelRefusalStream"/> under Kestrel's output, and an app middleware marks
/// while a request is ours. Anything Kestrel writes while no request is ours is its refusal, and goes out as
/// problem+json with a stable <c>code</c> and a 4xx status.
/// </summary>
internal static class KestrelRefusals
{
    /// <summary>Every endpoint's connections get the rewriting stream; every request the app sees is marked.</summary>
    public static WebApplicationBuilder AnswerKestrelRefusalsAsProblems(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Use(next => connection => ServeAsync(connection, next))));
        builder.Services.AddTransient<IStartupFilter, MarkAppRequests>();
        return builder;
    }

    private static async Task ServeAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var state = new AppRequestState();
        connection.Features.Set(state);
        var transport = connection.Transport;
        await using var output = new KestrelRefusalStream(transport.Output.AsStream(leaveOpen: true), state);
        var writer = PipeWriter.Create(output, new StreamPipeWriterOptions(leaveOpen: true));
        connection.Transport = new Duplex(transport.Input, writer);
        try
        {
            await next(connection);
        }
        finally
        {
            await writer.CompleteAsync();
            connection.Transport = transport;
        }
    }

    /// <summary>Whether one of the connection's requests is in our hands now; Kestrel's own answers come when none is.</summary>
    internal sealed class AppRequestState
    {
        private volatile bool _inApp;

        public bool InApp
        {
            get => _inApp;
            set => _inApp = value;
        }
    }

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    /// <summary>First in the pipeline: the request is ours from here until its response is completely written.</summary>
    private sealed class MarkAppRequests : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(MarkAsync);
            next(app);
        };

        private static async Task MarkAsync(HttpContext context, RequestDelegate next)
        {
            if (context.Features.Get<AppRequestState>() is not { } state)
            {
                await next(context); // The in-process test server: no connection, nothing of Kestrel's to rewrite.
                return;
            }

            state.InApp = true;
            await next(context);
            try
            {
                // Completed here, inside the mark, so every byte of our answer is written before Kestrel may write its own.
                await context.Response.CompleteAsync();
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
                // The caller is gone: nothing more goes out on this connection.
            }

            state.InApp = false;
        }
    }
}
