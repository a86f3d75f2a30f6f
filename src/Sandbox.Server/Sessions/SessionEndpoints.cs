using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Core.Runs;
using Sandbox.Server.Hosting;
using Sandbox.Server.Http;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Sessions;

/// <summary><c>/v1/sessions</c>: open a session, run cells in it, look at it, close it.</summary>
internal static class SessionEndpoints
{
    public static void MapSessionEndpoints(this IEndpointRouteBuilder app)
    {
        var sessions = app.MapGroup("/v1/sessions").WithTags("sessions").RequireAgent();

        sessions.MapPost("", OpenAsync)
            .WithName("OpenSession")
            .WithSummary("Open a session: one interpreter kept between cells, under the run's hardened spec")
            .Accepts<SessionRequestBody>("application/json")
            .Produces<SessionView>(StatusCodes.Status201Created)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden,
                StatusCodes.Status413PayloadTooLarge, StatusCodes.Status429TooManyRequests, StatusCodes.Status503ServiceUnavailable);

        sessions.MapGet("/{id}", Get)
            .WithName("GetSession")
            .WithSummary("A session's state, cells and expiry")
            .Produces<SessionView>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        sessions.MapDelete("/{id}", CloseAsync)
            .WithName("CloseSession")
            .WithSummary("Close a session now: a running cell is killed and the container removed")
            .Produces<SessionView>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        sessions.MapPost("/{id}/runs", RunCellAsync)
            .WithName("RunCell")
            .WithSummary("Run a cell in the session; the request and result are a run's")
            .Accepts<RunRequestBody>("application/json")
            .Produces<SessionCellView>()
            .Produces<SessionCellView>(StatusCodes.Status202Accepted)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden,
                StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status413PayloadTooLarge,
                StatusCodes.Status429TooManyRequests, StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<IResult> OpenAsync(HttpContext context, SessionRegistry registry, SessionOptions sessionOptions, ServerOptions options)
    {
        var cancellationToken = context.RequestAborted;
        var (body, unreadable) = await BodyReader.ReadAsync(context.Request, options.MaxRequestBodyBytes, cancellationToken);
        if (body is null)
        {
            return Problems.ToResult(unreadable!, context);
        }

        SessionRequestBody? request;
        try
        {
            request = JsonSerializer.Deserialize(body.Value.Span, SessionJsonContext.Default.SessionRequestBody);
        }
        catch (JsonException ex)
        {
            return Problems.ToResult(ex.Message.Contains("missing required properties", StringComparison.Ordinal)
                ? ApiProblem.Invalid([new FieldError("language", "is required, such as \"python\"")])
                : Problems.FromJsonException(ex), context);
        }

        if (request is null)
        {
            return Problems.ToResult(Problems.MalformedJson("the body must be one JSON object, such as {\"language\": \"python\"}"), context);
        }

        var (entry, problem) = await registry.OpenAsync(context.Principal(), request, cancellationToken);
        if (entry is null)
        {
            return Problems.ToResult(problem!, context);
        }

        return TypedResults.Created($"/v1/sessions/{entry.Id}", SessionRegistry.View(entry, sessionOptions));
    }

    private static async Task<IResult> Get(string id, HttpContext context, SessionRegistry registry, SessionOptions options) =>
        registry.Find(id, context.Principal()) is { } entry
            ? TypedResults.Ok(SessionRegistry.View(entry, options))
            : Problems.ToResult(await registry.NotHereAsync(id, context.Principal(), context.RequestAborted), context);

    private static async Task<IResult> CloseAsync(string id, HttpContext context, SessionRegistry registry, SessionOptions options)
    {
        if (registry.Find(id, context.Principal()) is not { } entry)
        {
            return Problems.ToResult(await registry.NotHereAsync(id, context.Principal(), context.RequestAborted), context);
        }

        await registry.CloseAsync(entry, SessionRegistry.ClosedByDelete, "closed by DELETE /v1/sessions/" + id);
        return TypedResults.Ok(SessionRegistry.View(entry, options));
    }

    private static async Task<IResult> RunCellAsync(string id, HttpContext context, SessionRegistry registry, ServerOptions options)
    {
        var cancellationToken = context.RequestAborted;
        var principal = context.Principal();
        if (registry.Find(id, principal) is not { } entry)
        {
            return Problems.ToResult(await registry.NotHereAsync(id, principal, cancellationToken), context);
        }

        var (body, unreadable) = await BodyReader.ReadAsync(context.Request, options.MaxRequestBodyBytes, cancellationToken);
        if (body is null)
        {
            return Problems.ToResult(unreadable!, context);
        }

        var reading = RunRequestReader.Read(body.Value, RunRequestBody.Options);
        if (reading.Malformed is { } malformed)
        {
            return Problems.ToResult(Problems.MalformedJson($"the body {malformed}; send one object such as {{\"language\": \"python\", \"code\": \"x + 1\"}}"), context);
        }

        if (reading.Request is not { } request)
        {
            return Problems.ToResult(ApiProblem.Invalid(reading.Errors), context);
        }

        var answer = RunRequestBody.AnswerOptions(reading);
        if (SessionCells.Check(request, answer, entry.Session.Plan) is { Count: > 0 } errors)
        {
            return Problems.ToResult(ApiProblem.Invalid(errors), context);
        }

        var (run, ended, refused) = await registry.SubmitCellAsync(entry, principal, request, answer.RawOutput, cancellationToken);
        if (run is null)
        {
            return Problems.ToResult(refused!, context);
        }

        if (run.State == RunState.PendingApproval)
        {
            return TypedResults.Accepted($"/v1/runs/{run.Id}", View(run, entry));
        }

        try
        {
            await ended.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return TypedResults.Empty;
        }

        if (run.RecordFailed)
        {
            return Problems.ToResult(RunLifecycle.ResultNotRecorded(run.Id), context);
        }

        context.Response.Headers.Location = $"/v1/runs/{run.Id}";
        return TypedResults.Ok(View(run, entry));
    }

    internal static SessionCellView View(RunEntry run, SessionEntry entry)
    {
        var view = RunLifecycle.View(run);
        var notes = run.State == RunState.Completed ? entry.Session.TakeNotes(run.Id) : null;
        return new SessionCellView
        {
            Id = view.Id,
            State = view.State,
            CreatedAt = view.CreatedAt,
            StartedAt = view.StartedAt,
            CompletedAt = view.CompletedAt,
            QueueMs = view.QueueMs,
            RunMs = view.RunMs,
            Result = view.Result,
            Raw = view.Raw,
            Session = new SessionCellInfo
            {
                Id = entry.Id,
                StateLost = notes?.StateLost ?? false,
                Notes = notes?.Restarted == true ? ["session_restarted"] : [],
            },
        };
    }
}
