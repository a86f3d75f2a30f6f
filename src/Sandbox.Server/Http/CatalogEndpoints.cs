using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Guard.Policy;
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
        // The catalog takes a key like every other /v1 route, and answers for that key: the languages, profiles and tool
        // it may use, as the MCP tool list does. Open, it showed anyone who could reach the port this host's images,
        // commands and limits, and offered frameworks languages the caller's key then refused.
        var catalog = app.MapGroup("/v1").WithTags("catalog").RequireAgent();

        catalog.MapGet("/languages", (HttpContext context, RunLifecycle coordinator) =>
                TypedResults.Ok(LanguagesFor(coordinator, context.Principal())))
            .WithName("ListLanguages").WithSummary("The languages this key may run, their default profiles and limits");

        catalog.MapGet("/profiles", (HttpContext context, RunLifecycle coordinator) =>
                TypedResults.Ok<IReadOnlyList<Profile>>([.. coordinator.Pipeline.Profiles.All.Where(p => context.Principal().Allows(p.Name)).OrderBy(p => p.Name, StringComparer.Ordinal)]))
            .WithName("ListProfiles").WithSummary("The profiles this key may use: backend, image or module, limits");

        catalog.MapGet("/profiles/{name}", (string name, HttpContext context, RunLifecycle coordinator) =>
                coordinator.Pipeline.Profiles.TryGet(name, out var profile) && context.Principal().Allows(profile.Name)
                    ? TypedResults.Ok(profile)
                    : Problems.ToResult(new ApiProblem
                    {
                        Status = 404,
                        Code = "profile_not_found",
                        Title = "No such profile",
                        // One answer for "none" and "not yours": the allow-list is the caller's whole view of the profiles.
                        Detail = $"no profile '{name}' this key may use; GET /v1/profiles lists them",
                    }, context))
            .WithName("GetProfile").WithSummary("One profile this key may use, by name").Produces<Profile>().ProducesProblem(StatusCodes.Status404NotFound);

        catalog.MapGet("/tools", (string? format, HttpContext context, RunLifecycle coordinator) =>
            {
                var shape = format ?? ToolCatalog.OpenAi;
                if (!ToolCatalog.Formats.Contains(shape, StringComparer.Ordinal))
                {
                    return Problems.ToResult(ApiProblem.Invalid([new FieldError(ToolCatalog.FormatParameter, $"must be {string.Join(", ", ToolCatalog.Formats)} (got '{shape}'); leave it out for openai")]), context);
                }

                var principal = context.Principal();
                var ceilings = ProfileCeiling.From(coordinator.Pipeline.Profiles).Where(p => principal.Allows(p.Name)).ToList();
                return Results.Text(ToolCatalog.Json(LanguagesFor(coordinator, principal), ceilings, shape), "application/json");
            })
            .WithName("ListTools").WithSummary("The run_code tool for this key, in the shape of OpenAI, Anthropic or MCP tool lists")
            .Produces(StatusCodes.Status200OK, contentType: "application/json").ProducesProblem(StatusCodes.Status400BadRequest);

        app.MapGet("/healthz", () => TypedResults.Ok(new ReadinessCheck("alive", true, "the process is serving requests")))
            .WithTags("health").WithName("Health").WithSummary("Liveness: the process serves requests");

        app.MapGet("/readyz", async (ReadinessProbe probe, CancellationToken cancellationToken) =>
            {
                var report = await probe.CheckAsync(cancellationToken);
                return report.Ready ? Results.Ok(report) : Results.Json(report, ServerJsonContext.Default.ReadinessReport, statusCode: StatusCodes.Status503ServiceUnavailable);
            })
            .WithTags("health").WithName("Ready").WithSummary("Readiness: Docker, images and guests are usable (503 lists what is not)").Produces<ReadinessReport>().Produces<ReadinessReport>(StatusCodes.Status503ServiceUnavailable);

        app.MapGet("/metrics", (SandboxMetrics metrics) => Results.Text(metrics.Render(), SandboxMetrics.ContentType))
            .WithTags("health").WithName("Metrics").WithSummary("Prometheus text format")
            .Produces(StatusCodes.Status200OK, contentType: "text/plain");
    }

    /// <summary>The languages <paramref name="principal"/> may run; a default off its allow-list gives way to an allowed profile (<see cref="AllowedLanguages"/>).</summary>
    private static IReadOnlyList<LanguageView> LanguagesFor(RunLifecycle coordinator, Principal principal)
    {
        var profiles = coordinator.Pipeline.Profiles;
        return AllowedLanguages.For(
            Catalog.Languages(profiles, coordinator.Pipeline.UnavailableBackends),
            principal.Allows,
            name => profiles.TryGet(name, out var p) ? new ProfileSummary(p.Name, p.Backend, p.Description, p.Limits) : null);
    }
}
