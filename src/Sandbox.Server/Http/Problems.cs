using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Sandbox.Core.Runs;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Http;

/// <summary>RFC 9457 problem details from <see cref="ApiProblem"/>: a stable <c>code</c>, the fix in <c>detail</c>, and <c>errors</c> naming fields.</summary>
internal static partial class Problems
{
    public static IResult ToResult(ApiProblem problem, HttpContext context)
    {
        if (problem.RetryAfterSeconds is { } retry)
        {
            context.Response.Headers.RetryAfter = retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var details = new ProblemDetails
        {
            Status = problem.Status,
            Type = "urn:sandbox:problem:" + problem.Code,
            Title = problem.Title,
            Detail = problem.Detail,
            Instance = context.Request.Path,
        };
        details.Extensions["code"] = problem.Code;
        if (problem.Errors is { Count: > 0 } errors)
        {
            details.Extensions["errors"] = errors;
        }

        if (problem.Cap is { } cap)
        {
            details.Extensions["cap"] = cap;
        }

        if (problem.Status == StatusCodes.Status401Unauthorized)
        {
            // RFC 6750: tells clients which scheme to use, and that the token they sent did not work.
            context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
        }

        return TypedResults.Problem(details);
    }

    /// <summary>401: the key is missing, malformed, unknown, expired or revoked; the code says which.</summary>
    public static ApiProblem Unauthorized(string code, string detail) => new()
    {
        Status = 401,
        Code = code,
        Title = "A valid agent key is required",
        Detail = detail,
    };

    public static ApiProblem BodyTooLarge(long limit) => new()
    {
        Status = 413,
        Code = "body_too_large",
        Title = "The request body is too large",
        Detail = $"the body is over {limit} bytes, the most this service accepts; send less code, stdin or files",
    };

    /// <summary>Kestrel's refusal of a body as it was read (bad chunk framing 400, too slow 408, too large 413), as a problem with a code.</summary>
    public static ApiProblem FromKestrel(int status, long limit) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => BodyTooLarge(limit),
        StatusCodes.Status408RequestTimeout => new()
        {
            Status = 408,
            Code = "request_timeout",
            Title = "The request body arrived too slowly",
            Detail = "the body arrived more slowly than this service accepts (see Sandbox:MinRequestBodyBytesPerSecond); send the whole body at once",
        },
        _ => new()
        {
            Status = 400,
            Code = "malformed_request",
            Title = "The request's HTTP framing is invalid",
            Detail = "the body could not be read as HTTP/1.1 framing (such as a chunk size that is not hexadecimal or does not fit); send a Content-Length body or well-formed chunks",
        },
    };

    public static ApiProblem MalformedJson(string detail) => new()
    {
        Status = 400,
        Code = "malformed_json",
        Title = "The body is not valid JSON for this endpoint",
        Detail = detail,
        Errors = [new FieldError("body", detail)],
    };

    /// <summary>Turns a parser failure into a field error: which field, and what it should have been.</summary>
    public static ApiProblem FromJsonException(System.Text.Json.JsonException ex)
    {
        if (UnknownMember().Match(ex.Message) is { Success: true } unknown)
        {
            // The parser's path already ends at the unknown member ($.limits.bogus); older paths stop at its parent.
            var field = unknown.Groups[1].Value;
            var where = FieldOf(ex.Path);
            var full = where == field || where.EndsWith("." + field, StringComparison.Ordinal) ? where : where is "" ? field : $"{where}.{field}";
            return Invalid(full, "is not a known field; check its spelling against GET /openapi/v1.json");
        }

        var path = FieldOf(ex.Path);
        if (path.Length == 0)
        {
            return MalformedJson("the body must be one JSON object, such as {\"language\": \"python\", \"code\": \"print(1)\"}");
        }

        return Invalid(path, $"has the wrong type; expected {Expected(path)}");
    }

    private static ApiProblem Invalid(string field, string message) => ApiProblem.Invalid([new FieldError(field, message)]);

    /// <summary><c>$.limits.wallTimeMs</c> becomes <c>limits.wallTimeMs</c>; <c>$.files[0].path</c> stays indexed.</summary>
    private static string FieldOf(string? path) => path is null or "$" ? "" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    private static string Expected(string path)
    {
        var leaf = path[(path.LastIndexOf('.') + 1)..];
        return leaf switch
        {
            "async" or "dryRun" or "rawOutput" => "true or false",
            "files" => "an array of {\"path\": ..., \"content\": ...} objects",
            "limits" => "an object of limit names to whole numbers, such as {\"wallTimeMs\": 2000}",
            _ when path.StartsWith("limits.", StringComparison.Ordinal) => "a whole number",
            _ => "a string",
        };
    }

    [GeneratedRegex("The JSON property '([^']+)' could not be mapped")]
    private static partial Regex UnknownMember();
}
