using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Core.Profiles;
using Sandbox.Server.Hosting;
using Sandbox.Server.Mcp;
using Sandbox.Server.Metrics;
using Sandbox.Server.Runs;
using Sandbox.Server.Tools;

namespace Sandbox.Server.Http;

/// <summary>What the service offers (languages, profiles, the tool schema) and how it is doing (health, readiness, metrics).</summary>
internal static class CatalogEndpoints
{
    public static void MapCatalogEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/languages", (RunLifecycle coordinator) =>
                TypedResults.Ok(Catalog.Languages(coordinator.Pipeline.Profiles, coordinator.Pipeline.UnavailableBackends)))
            .WithTags("catalog").WithName("ListLanguages").WithSummary("Languages, their default profiles and limits");

        app.MapGet("/v1/profiles", (RunLifecycle coordinator) =>
                TypedResults.Ok<IReadOnlyList<Profile>>([.. coordinator.Pipeline.Profiles.All.OrderBy(p => p.Name, StringComparer.Ordinal)]))
            .WithTags("catalog").WithName("ListProfiles").WithSummary("Every profile: backend, image or module, limits");

        app.MapGet("/v1/profiles/{name}", (string name, HttpContext context, RunLifecycle coordinator) =>
                coordinator.Pipeline.Profiles.TryGet(name, out var profile)
                    ? TypedResults.Ok(profile)
                    : Problems.ToResult(new ApiProblem
                    {
                        Status = 404,
                        Code = "profile_not_found",
                        Title = "No such profile",
                        Detail = $"no profile '{name}'; GET /v1/profiles lists them",
                    }, context))
            .WithTags("catalog").WithName("GetProfile").WithSummary("One profile by name").Produces<Profile>().ProducesProblem(StatusCodes.Status404NotFound);

        app.MapGet("/v1/tools", (RunLifecycle coordinator) =>
                Results.Text(ToolCatalog.FunctionToolsJson(Catalog.Languages(coordinator.Pipeline.Profiles, coordinator.Pipeline.UnavailableBackends), ProfileCeiling.From(coordinator.Pipeline.Profiles)), "application/json"))
            .WithTags("catalog").WithName("ListTools").WithSummary("The run_code tool's JSON schema, ready for function-calling frameworks")
            .Produces(StatusCodes.Status200OK, contentType: "application/json");

        app.MapGet("/healthz", () => TypedResults.Ok(new ReadinessCheck("alive", true, "the process is serving requests")))
            .WithTags("health").WithName("Health").WithSummary("Liveness: the process serves requests");

        app.MapGet("/readyz", async (ReadinessProbe probe, CancellationToken cancellationToken) =>
            {
                var report = await probe.CheckAsync(cancellationToken);
                return report.Ready ? Results.Ok(report) : Results.Json(report, ServerJsonContext.Default.ReadinessReport, statusCode: StatusCodes.Status503ServiceUnavailable);
            })
            .WithTags("health").WithName("Ready").WithSummary("Readiness: the store writes, and Docker, images and guests are usable (503 lists what is not)").Produces<ReadinessReport>().Produces<ReadinessReport>(StatusCodes.Status503ServiceUnavailable);

        app.MapGet("/metrics", (SandboxMetrics metrics) => Results.Text(metrics.Render(), SandboxMetrics.ContentType))
            .WithTags("health").WithName("Metrics").WithSummary("Prometheus text format")
            .Produces(StatusCodes.Status200OK, contentType: "text/plain");
    }
}
