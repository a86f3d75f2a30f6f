using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Execution;
using Sandbox.Guard.Agents;
using Sandbox.Server.OperatorConsole;
using Sandbox.Server.Http;
using Sandbox.Server.Logging;
using Sandbox.Server.Metrics;
using Sandbox.Server.OpenApi;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Hosting;

/// <summary>
/// Builds the HTTP service: `sandbox serve`, `make run` and the integration tests all start it here.
/// Settings come the ASP.NET way (appsettings.json, environment, command line); the address defaults to
/// loopback only, because an execution service must be exposed on purpose, never by accident.
/// </summary>
public static class SandboxServer
{
    /// <summary>Bytes the transport and Kestrel read ahead of the app per connection (see Build).</summary>
    private const int ReadAheadBytes = 64 * 1024;

    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <param name="args">The command line (ASP.NET settings such as <c>--urls</c>, and <c>--Sandbox:…</c> keys).</param>
    /// <param name="time">The one clock of the guard, the run lifecycle, the pipeline and the backends; the system's unless a test gives another.</param>
    public static WebApplication Build(string[] args, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var options = SandboxComposition.LoadOptions(builder.Configuration);

        // Loaded here, before anything listens, so a bad profiles file stops start-up with every error listed.
        var (profiles, profilesPath) = SandboxComposition.LoadProfiles(options);
        var dockerProfiles = profiles.All.Where(p => p.Backend == Core.Profiles.BackendNames.Docker).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var warmPool = options.EffectiveWarmPool(dockerProfiles);
        if (warmPool.Validate($"{ServerOptions.Section}:{Docker.Pooling.WarmPoolOptions.Section}", dockerProfiles) is { Count: > 0 } poolErrors)
        {
            // Fail closed: a pool sized for a profile that does not exist is a typo the operator must see, not silently no pool.
            throw new ServerConfigurationException(poolErrors);
        }
        var guardOptions = GuardHost.LoadOptions(builder.Configuration, defaultNodeId: "serve@" + Environment.MachineName);

        SandboxLogging.Configure(builder.Logging, builder.Configuration, consoleToStderr: false);

        // Opened (and reconciled after any crash) before anything listens: no run is admitted while orphans are being closed.
        // Its loggers follow the host's factory once there is one (below); the start-up factory is disposed then.
        var startupLoggers = LoggerFactory.Create(l => SandboxLogging.Configure(l, builder.Configuration, consoleToStderr: false));
        var guardLoggers = new ForwardingLoggerFactory(startupLoggers);
        GuardHost guardHost;
        try
        {
            // What this node runs, recorded with its lease on a shared store (see INodeLeases).
            var serves = new Guard.Store.NodeServes([.. profiles.All.Select(p => p.Backend).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
                [.. profiles.All.Select(p => p.Module ?? p.Image).Where(i => i.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]);
            guardHost = GuardHost.OpenAsync(options, guardOptions, guardLoggers, time, CancellationToken.None, serves).GetAwaiter().GetResult();
        }
        catch
        {
            startupLoggers.Dispose();
            throw;
        }

        // Through a factory so the container disposes it (store closed, queued alerts delivered) after the drain.
        builder.Services.AddSingleton(_ => guardHost);

        builder.Services.AddSingleton(guardOptions);
        builder.Services.AddSingleton(sp => sp.GetRequiredService<GuardHost>().Guard);
        builder.Services.AddSingleton(sp => new AgentAdmin(sp.GetRequiredService<GuardHost>().Store, sp.GetRequiredService<TimeProvider>(), profiles.All.Select(p => p.Name).ToHashSet(StringComparer.Ordinal)));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(warmPool);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(sp => new ConsoleSessions(sp.GetRequiredService<TimeProvider>()));
        var wasmOptions = new Sandbox.Wasm.Backend.WasmWorkerOptions { WarmWorkers = options.WasmWarmWorkers, MaxWarmWorkers = Math.Max(8, options.WasmWarmWorkers), WarmSnapshots = options.WasmWarmSnapshots };
        builder.Services.AddSingleton(sp => SandboxHost.Create(profiles, profilesPath, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>(), wasmOptions));
        builder.Services.AddSingleton(sp => sp.GetRequiredService<SandboxHost>().Pipeline);
        builder.Services.AddSingleton<SandboxMetrics>();
        builder.Services.AddSingleton(sp => new Http.RequestBodyBudget(sp.GetRequiredService<ServerOptions>()));
        builder.Services.AddSingleton(sp => SandboxComposition.CreateLifecycle(sp.GetRequiredService<RunPipeline>(), sp.GetRequiredService<GuardHost>(), options,
            sp.GetRequiredService<SandboxMetrics>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton(sp => new ReadinessProbe(profiles, sp.GetRequiredService<SandboxHost>().DirectDocker, sp.GetRequiredService<TimeProvider>(), () => sp.GetRequiredService<SandboxHost>().Wasm.Unavailable,
            StoreProbe(sp.GetRequiredService<GuardHost>(), options, sp.GetRequiredService<RunLifecycle>().DiskReserve)));
        if (guardHost.Store is Guard.Store.INodeLeases)
        {
            // Before SandboxService: hosted services stop in reverse order, so the lease is renewed through the whole drain
            // (runs finishing in their grace period are still this node's) and released only after it.
            builder.Services.AddHostedService<NodeLeaseService>();
        }

        builder.Services.AddHostedService<SandboxService>();
        Sessions.SessionComposition.AddSessions(builder.Services, builder.Configuration);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownGracePeriod + TimeSpan.FromSeconds(45));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;

            // Bounds on what a client can hold open without doing anything: sockets, slow headers, slow bodies, idle keep-alives.
            k.Limits.MaxConcurrentConnections = options.MaxConnections;
            // What Kestrel reads ahead of the app per connection (1 MiB by default): see the socket transport's below.
            k.Limits.MaxRequestBufferSize = ReadAheadBytes;
            k.Limits.RequestHeadersTimeout = options.RequestHeadersTimeout;
            k.Limits.KeepAliveTimeout = options.KeepAliveTimeout;
            k.Limits.MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(options.MinRequestBodyBytesPerSecond, options.RequestBodyGracePeriod);
        });
        // The socket transport reads ahead of Kestrel too, 1 MiB per connection by default: a client that sends a large body
        // and is refused before it is read had that much held for it (400 such calls at once: about 450 MB of the service's
        // 600). 64 KiB keeps uploads streaming and bounds the read-ahead of MaxConnections at 64 MB.
        builder.WebHost.UseSockets(s => s.MaxReadBufferSize = ReadAheadBytes);
        builder.AnswerKestrelRefusalsAsProblems();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, ServerJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(1, Sessions.SessionJsonContext.Default);
            o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase;
            // The web defaults read numbers from strings, and the OpenAPI document is drawn from these options: strict, as the
            // bodies are actually bound (ServerJsonContext), so the document does not offer "100" for a limit.
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        });
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            // Problems the framework raises before our handlers run still say what to do.
            context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
            {
                StatusCodes.Status415UnsupportedMediaType => "send the body as JSON with the header Content-Type: application/json",
                StatusCodes.Status404NotFound => "no such endpoint; GET /openapi/v1.json lists them",
                StatusCodes.Status405MethodNotAllowed => "this endpoint does not take that method; GET /openapi/v1.json lists them",
                StatusCodes.Status500InternalServerError => "the service failed unexpectedly; the failure has been logged",
                _ => null,
            };
            ProblemText.Complete(context.ProblemDetails);
        });
        builder.Services.AddSandboxOpenApi();
        builder.Services.AddExceptionHandler<StoreFailureHandler>();

        var app = builder.Build();
        guardLoggers.ForwardTo(app.Services.GetRequiredService<ILoggerFactory>());
        startupLoggers.Dispose();
        // Unhandled failures become a bare 500 problem: no stack trace or host detail reaches a caller.
        app.UseExceptionHandler();
        app.UseStatusCodePages(static async page =>
        {
            // The framework's 404/405/415 as problem+json whatever the caller accepts: with Accept: application/xml the
            // default page fell back to text/plain, without the code every 4xx carries (found by the fuzzer).
            var http = page.HttpContext;
            http.Request.Headers.Accept = "application/problem+json";
            await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(
                new ProblemDetailsContext { HttpContext = http, ProblemDetails = { Status = http.Response.StatusCode } });
        });
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapRunEndpoints();
        app.MapTokenEndpoints();
        app.MapAdminEndpoints();
        app.MapCatalogEndpoints();
        app.MapConsoleEndpoints();
        Sessions.SessionEndpoints.MapSessionEndpoints(app);
        return app;
    }

    /// <summary>
    /// <c>/readyz</c>'s store check: the data folder takes a 64 KiB write flushed to the device (a full disk is seen even
    /// while SQLite's WAL still has room) and its disk has the reserve free (the lifecycle's own reserve, so the two agree),
    /// then the store commits a tiny transaction (a read-only or locked database).
    /// </summary>
    private static Func<CancellationToken, Task> StoreProbe(GuardHost guard, ServerOptions options, DataDiskReserve? reserve)
    {
        var folder = new StoreWriteProbe(Guard.Store.GuardPaths.Database(options.DataDirectory));
        return async cancellationToken =>
        {
            if ((folder.Unwritable() ?? reserve?.Shortfall()) is { } why)
            {
                throw new IOException(why);
            }

            await guard.Store.ProbeWriteAsync(cancellationToken);
        };
    }
}

/// <summary>The service's settings are unusable; every error names its key.</summary>
public sealed class ServerConfigurationException(IReadOnlyList<Core.Runs.FieldError> errors)
    : Exception("invalid service settings: " + string.Join("; ", errors.Select(e => e.ToString())))
{
    public IReadOnlyList<Core.Runs.FieldError> Errors { get; } = errors;
}
