using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Sandbox.Core.Runs;
using Sandbox.Core.Text;

namespace Sandbox.Server.Http;

/// <summary>
/// The last step of every problem the service writes, ours and the framework's alike (it runs inside the
/// problem details service): each carries a stable <c>code</c>, and no text in it can carry a control or
/// invisible character from the request to whoever reads the answer.
/// </summary>
internal static class ProblemText
{
    public static void Complete(ProblemDetails problem)
    {
        if (!problem.Extensions.ContainsKey("code"))
        {
            // The framework's own answers (no route, wrong method, wrong content type) carry a code like ours, so clients branch on one field.
            var code = CodeFor(problem.Status);
            problem.Extensions["code"] = code;
            problem.Type = "urn:sandbox:problem:" + code;
        }

        // Input is echoed into these (an unknown language, a run id from the path, a field name): CR/LF, NUL, ESC
        // and bidi overrides must not reach a terminal, a log viewer or a model reading the problem.
        problem.Title = Escape(problem.Title);
        problem.Detail = Escape(problem.Detail);
        problem.Instance = Escape(problem.Instance);
        if (problem.Extensions.TryGetValue("errors", out var value) && value is IReadOnlyList<FieldError> errors)
        {
            problem.Extensions["errors"] = errors.Select(e => new FieldError(Escape(e.Field)!, Escape(e.Message)!)).ToList();
        }
    }

    /// <summary>The code of a problem the framework raised, by its status.</summary>
    public static string CodeFor(int? status) => status switch
    {
        StatusCodes.Status400BadRequest => "malformed_request",
        StatusCodes.Status404NotFound => "not_found",
        StatusCodes.Status405MethodNotAllowed => "method_not_allowed",
        StatusCodes.Status408RequestTimeout => "request_timeout",
        StatusCodes.Status413PayloadTooLarge => "body_too_large",
        StatusCodes.Status415UnsupportedMediaType => "unsupported_media_type",
        StatusCodes.Status500InternalServerError => "internal_error",
        _ => "http_" + status?.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static string? Escape(string? text) => text is null ? null : DisplayText.Escape(text, keepNewlinesAndTabs: false);
}
