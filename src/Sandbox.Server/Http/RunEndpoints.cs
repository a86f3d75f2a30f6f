using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Docker.Spec;
using Sandbox.Server.Hosting;
using Sandbox.Server.Output;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Http;

/// <summary><c>/v1/runs</c>: run (waiting or not), dry-run, look up, cancel, and stream a run's events.</summary>
internal static class RunEndpoints
{
    /// <summary>How long DELETE waits for the kill to be confirmed before answering 202.</summary>
    private static readonly TimeSpan CancelWait = TimeSpan.FromSeconds(10);

    private const string CancelledByDisconnect = "cancelled: the caller disconnected before the result (cancelOnDisconnect)";

    private const int MaxIdempotencyKeyLength = 200;

    public static void MapRunEndpoints(this IEndpointRouteBuilder app)
    {
        var runs = app.MapGroup("/v1/runs").WithTags("runs").RequireAgent();

        runs.MapPost("", CreateAsync)
            .WithName("CreateRun")
            .WithSummary("Run code; waits for the result unless async is set")
            .Accepts<RunRequestBody>("application/json")
            .Produces<RunView>(StatusCodes.Status200OK)
            .Produces<RunView>(StatusCodes.Status202Accepted)
            .ProducesProblems(
                StatusCodes.Status400BadRequest,
                StatusCodes.Status401Unauthorized,
                StatusCodes.Status403Forbidden,
                StatusCodes.Status413PayloadTooLarge,
                StatusCodes.Status422UnprocessableEntity,
                StatusCodes.Status429TooManyRequests,
                StatusCodes.Status503ServiceUnavailable);

        runs.MapGet("/{id}", Get)
            .WithName("GetRun")
            .WithSummary("A run's state, or its result once completed")
            .Produces<RunView>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        runs.MapDelete("/{id}", CancelAsync)
            .WithName("CancelRun")
            .WithSummary("Cancel a run: a queued run never starts, a running one is killed")
            .Produces<RunView>()
            .Produces<RunView>(StatusCodes.Status202Accepted)
            .ProducesProblems(StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);

        runs.MapGet("/{id}/artifacts/{**path}", GetArtifactAsync)
            .WithName("GetRunArtifact")
            .WithSummary("Download one file the run returned from /tmp/outputs, with its sniffed media type")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);

        runs.MapGet("/{id}/events", EventsAsync)
            .WithName("RunEvents")
            .WithSummary("Server-Sent Events: stdout and stderr chunks as they come, then the final result")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> CreateAsync(HttpContext context, RunLifecycle coordinator, ServerOptions options, ReadinessProbe readiness)
    {
        var result = await CreateOrRefuseAsync(context, coordinator, options, readiness);

        // A refused request counts against the agent's rate like a run (429 past it): otherwise a loop of bad requests is uncapped.
        if (result is IStatusCodeHttpResult { StatusCode: 400 or 403 or 413 or 422 } && coordinator.CountRefusal(context.Principal()) is { } throttled)
        {
            return Problems.ToResult(throttled, context);
        }

        return result;
    }

    private static async Task<IResult> CreateOrRefuseAsync(HttpContext context, RunLifecycle coordinator, ServerOptions options, ReadinessProbe readiness)
    {
        var cancellationToken = context.RequestAborted;
        var (body, unreadable) = await BodyReader.ReadAsync(context.Request, options.MaxRequestBodyBytes, cancellationToken);
        if (body is null)
        {
            return Problems.ToResult(unreadable!, context);
        }

        var reading = RunRequestReader.Read(body.Value, RunRequestBody.Options);
        if (reading.Malformed is { } malformed)
        {
            return Problems.ToResult(Problems.MalformedJson($"the body {malformed}; send one object such as {{\"language\": \"python\", \"code\": \"print(1)\"}}"), context);
        }

        if (reading.Request is not { } request)
        {
            return Problems.ToResult(ApiProblem.Invalid(reading.Errors), context);
        }

        var parsed = RunRequestBody.AnswerOptions(reading);
        if (parsed.DryRun)
        {
            return TypedResults.Ok(await DryRunAsync(coordinator, readiness, context.RequestServices.GetService<SandboxHost>(), request, context.Principal(), cancellationToken));
        }

        string? key = null;
        if (context.Request.Headers.TryGetValue("Idempotency-Key", out var header))
        {
            key = header.ToString();
            if (key.Length is 0 or > MaxIdempotencyKeyLength || key.Any(c => c is < '!' or > '~'))
            {
                return Problems.ToResult(ApiProblem.Invalid([new Core.Runs.FieldError("Idempotency-Key", $"must be 1 to {MaxIdempotencyKeyLength} visible ASCII characters, such as a UUID")]), context);
            }
        }

        // The fingerprint ties a key to one exact request: the same key with another body is an error, not a replay.
        var fingerprint = key is null ? null : Convert.ToHexStringLower(SHA256.HashData(body.Value.Span));
        var outcome = await coordinator.SubmitAsync(context.Principal(), request, parsed.RawOutput, key, fingerprint, cancellationToken);
        if (outcome.Offered is { } offered)
        {
            // Admitted here, run by whichever node claims it (a store nodes share, no free slot here): answered from its row.
            context.Response.Headers.Location = $"/v1/runs/{offered.View.Id}";
            var view = parsed.Async ? offered.View
                : await coordinator.AwaitOfferedAsync(offered, context.Principal(), parsed.CancelOnDisconnect ? CancelledByDisconnect : null, cancellationToken);
            if (view is null)
            {
                return TypedResults.Empty;
            }

            return view.State == "completed" ? TypedResults.Ok(view) : TypedResults.Accepted($"/v1/runs/{view.Id}", view);
        }

        if (outcome.StoredView is { } stored)
        {
            // The key's run ended before a restart: its stored view, never a second execution.
            context.Response.Headers["Idempotent-Replayed"] = "true";
            context.Response.Headers.Location = $"/v1/runs/{stored.Id}";
            return stored.State == "completed" ? TypedResults.Ok(stored) : TypedResults.Accepted($"/v1/runs/{stored.Id}", stored);
        }

        if (outcome.Entry is not { } entry)
        {
            return Problems.ToResult(outcome.Problem!, context);
        }

        if (outcome.IsReplay)
        {
            context.Response.Headers["Idempotent-Replayed"] = "true";
        }

        var location = $"/v1/runs/{entry.Id}";

        // A run waiting for a human answers at once, whatever the caller asked: nobody should hold a connection open for a person.
        if (parsed.Async || entry.State == RunState.PendingApproval)
        {
            return TypedResults.Accepted(location, RunLifecycle.View(entry));
        }

        try
        {
            // By default the run goes on if the caller leaves; it can be fetched by id, or replayed by its idempotency key.
            await entry.Completed.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (parsed.CancelOnDisconnect)
            {
                // The caller asked that nobody's run hold a slot: cancel as DELETE does, without waiting for the kill
                // (there is nobody to answer); the run records `cancelled` once its container or engine is gone.
                await coordinator.CancelAsync(entry.Id, context.Principal(), CancelledByDisconnect, TimeSpan.Zero);
            }

            return TypedResults.Empty;
        }

        context.Response.Headers.Location = location;
        if (entry.RecordFailed)
        {
            // It ran, but the store did not take its end: a restart would not find this result, so it is not answered as one.
            return Problems.ToResult(RunLifecycle.ResultNotRecorded(entry.Id), context);
        }

        return TypedResults.Ok(RunLifecycle.View(entry));
    }

    private static async Task<DryRunView> DryRunAsync(RunLifecycle coordinator, ReadinessProbe readiness, SandboxHost? host, Core.Runs.RunRequest request, Guard.Policy.Principal principal, CancellationToken cancellationToken)
    {
        var (plan, errors) = coordinator.Plan(request, principal);
        if (plan is null)
        {
            return new DryRunView { WouldRun = false, Errors = errors };
        }

        var refusals = new List<string>();
        var report = await readiness.CheckAsync(cancellationToken);
        if (report.Checks.FirstOrDefault(c => c.Name == "store") is { Ok: false } store)
        {
            refusals.Add(store.Detail);
        }

        if (plan.Backend == BackendNames.Docker)
        {
            if (report.Checks.FirstOrDefault(c => c.Name == "docker") is { Ok: false } docker)
            {
                refusals.Add(docker.Detail);
            }

            if (report.Checks.FirstOrDefault(c => c.Name == "image " + plan.Profile.Image) is { Ok: false })
            {
                refusals.Add($"the image {plan.Profile.Image} is missing; build it with `make images`");
            }
        }
        else if (report.Checks.FirstOrDefault(c => c.Name == "wasm guest " + plan.Profile.Name) is { Ok: false } guest)
        {
            refusals.Add(guest.Detail);
        }

        if (coordinator.Pipeline.UnavailableBackends.Contains(plan.Backend))
        {
            refusals.Add($"the {plan.Backend} backend is unavailable on this host");
        }

        if (!coordinator.Accepting)
        {
            refusals.Add("the service is shutting down");
        }

        if (!principal.Allows(plan.Profile.Name))
        {
            refusals.Add($"profile '{plan.Profile.Name}' is not on this key's allow-list ({string.Join(", ", principal.Profiles)})");
        }

        return new DryRunView
        {
            WouldRun = refusals.Count == 0,
            Profile = plan.Profile.Name,
            Backend = plan.Backend,
            Image = plan.Backend == BackendNames.Docker ? plan.Profile.Image : null,
            // The module's name only: the host folder it lives in is nobody's business.
            Module = plan.Profile.Module is { } module ? Path.GetFileName(module) : null,
            Runtime = plan.Backend == BackendNames.Docker ? plan.Runtime : null,
            Limits = plan.Limits,
            SeccompProfileSha256 = plan.Backend == BackendNames.Docker ? SeccompProfile.Runner.Sha256 : null,
            WarmContainer = plan.Backend == BackendNames.Docker && host is not null ? await host.HasWarmAsync(plan, cancellationToken) : null,
            Refusals = refusals,
        };
    }

    private static async Task<IResult> Get(string id, HttpContext context, RunLifecycle coordinator) =>
        await coordinator.FindViewAsync(id, context.Principal(), context.RequestAborted) is { } view
            ? TypedResults.Ok(view)
            : Problems.ToResult(ApiProblem.NotFound(id), context);

    /// <summary>
    /// Serves an artifact's bytes. The bytes and the name are the program's, so the answer is built to be inert in a browser:
    /// the allow-listed type only, never sniffed again (nosniff), anything but a raster image as an attachment, and a
    /// sandboxing CSP in case a browser renders it anyway.
    /// </summary>
    private static async Task<IResult> GetArtifactAsync(string id, string path, HttpContext context, RunLifecycle coordinator)
    {
        if (await coordinator.FindArtifactAsync(id, path, context.Principal(), context.RequestAborted) is not { } found)
        {
            return Problems.ToResult(ApiProblem.NotFound(id), context);
        }

        if (found.Artifact is not { } artifact)
        {
            return Problems.ToResult(new ApiProblem
            {
                Status = 404,
                Code = "artifact_not_found",
                Title = "No such artifact",
                Detail = $"run {id} returned no file '{path}'; its result's artifacts list the paths it did return",
                Errors = [new FieldError("path", "is not among the run's artifacts")],
            }, context);
        }

        return ArtifactDownload.Serve(context, artifact);
    }

    private static async Task<IResult> CancelAsync(string id, HttpContext context, RunLifecycle coordinator)
    {
        var principal = context.Principal();
        var outcome = await coordinator.CancelAsync(id, principal, "cancelled by DELETE /v1/runs/" + id, CancelWait);
        return outcome switch
        {
            CancelOutcome.NotFound => Problems.ToResult(ApiProblem.NotFound(id), context),
            CancelOutcome.AlreadyCompleted => Problems.ToResult(new ApiProblem
            {
                Status = 409,
                Code = "run_completed",
                Title = "The run already completed",
                Detail = $"run {id} completed before it could be cancelled; GET /v1/runs/{id} has its result",
            }, context),
            // From memory, or from the store for a run followed since a restart or held by another node.
            CancelOutcome.Cancelling => await coordinator.FindViewAsync(id, principal, context.RequestAborted) is { } view
                ? TypedResults.Accepted($"/v1/runs/{id}", view)
                : Problems.ToResult(ApiProblem.NotFound(id), context),
            _ => await coordinator.FindViewAsync(id, principal, context.RequestAborted) is { } view
                ? TypedResults.Ok(view)
                : Problems.ToResult(ApiProblem.NotFound(id), context),
        };
    }

    /// <summary>Replays the run's events from the start (or after <c>Last-Event-ID</c>), follows it live, and ends with the result.</summary>
    private static async Task EventsAsync(string id, HttpContext context, RunLifecycle coordinator)
    {
        var entry = coordinator.Find(id, context.Principal());
        // Not in this node's memory: another node runs it, or it ended before a restart; its row and persisted output tell it.
        var stored = entry is null ? await coordinator.FollowStoredAsync(id, context.Principal(), context.RequestAborted) : null;
        if (entry is null && stored is null)
        {
            await Problems.ToResult(ApiProblem.NotFound(id), context).ExecuteAsync(context);
            return;
        }

        if (!TryParseLastEventId(context.Request.Headers["Last-Event-ID"], out var next))
        {
            await Problems.ToResult(ApiProblem.Invalid([new Core.Runs.FieldError("Last-Event-ID", $"must be the id of an event of this stream, a whole number from 0 to {long.MaxValue - 1}; leave it out to start from the beginning")]), context).ExecuteAsync(context);
            return;
        }

        var cancellationToken = context.RequestAborted;
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Tells proxies such as nginx not to buffer: the point of the stream is to arrive as it happens.
        response.Headers["X-Accel-Buffering"] = "no";
        await response.Body.FlushAsync(cancellationToken);

        try
        {
            if (stored is not null)
            {
                await foreach (var e in stored.ReadAsync(next, cancellationToken))
                {
                    var data = e.Result is { } view
                        ? JsonSerializer.Serialize(view, ServerJsonContext.Default.RunView)
                        : JsonSerializer.Serialize(new StreamText(e.Text ?? ""), ServerJsonContext.Default.StreamText);
                    await WriteFrameAsync(response, e.Sequence, e.Kind, data, cancellationToken);
                }

                return;
            }

            while (true)
            {
                var (events, changed) = entry!.ReadEvents(next);
                foreach (var e in events)
                {
                    await WriteEventAsync(response, e, entry, cancellationToken);
                    next = e.Sequence + 1;
                    if (e.Kind == "result")
                    {
                        return;
                    }
                }

                await response.Body.FlushAsync(cancellationToken);
                await changed.WaitAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; the run itself carries on.
        }
    }

    /// <summary>
    /// The first event to send: 0 without the header (or with it empty, as EventSource sends before any id), else
    /// one past it. Anything but digits in range is refused, never guessed at: a negative or overflowing id must
    /// not reach the event list. Ids are positions in the run's output (see RunEvent), so a resumed stream starts exactly
    /// after what was sent.
    /// </summary>
    private static bool TryParseLastEventId(string? header, out long next)
    {
        next = 0;
        if (string.IsNullOrEmpty(header))
        {
            return true;
        }

        if (header.Length > 19 || !header.All(char.IsAsciiDigit) || !long.TryParse(header, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var last) || last == long.MaxValue)
        {
            return false;
        }

        next = last + 1;
        return true;
    }

    private static async Task WriteEventAsync(HttpResponse response, RunEvent e, RunEntry entry, CancellationToken cancellationToken)
    {
        string data = e.Kind switch
        {
            "result" => JsonSerializer.Serialize(RunLifecycle.View(entry), ServerJsonContext.Default.RunView),
            "state" => JsonSerializer.Serialize(new StreamText(e.Text ?? ""), ServerJsonContext.Default.StreamText),
            // Each chunk is made safe like the final output, so a terminal or model reading the stream sees no escapes.
            _ => JsonSerializer.Serialize(new StreamText(Sanitize(e.Text ?? "")), ServerJsonContext.Default.StreamText),
        };
        await WriteFrameAsync(response, e.Sequence, e.Kind, data, cancellationToken);
    }

    private static async Task WriteFrameAsync(HttpResponse response, long sequence, string kind, string data, CancellationToken cancellationToken)
    {
        var frame = $"id: {sequence}\nevent: {kind}\ndata: {data}\n\n";
        await response.WriteAsync(frame, Encoding.UTF8, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static string Sanitize(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return OutputSanitizer.Sanitize(bytes, bytes.Length, int.MaxValue);
    }
}

/// <summary>The data of a <c>stdout</c>, <c>stderr</c> or <c>state</c> event.</summary>
public sealed record StreamText(string Text);
