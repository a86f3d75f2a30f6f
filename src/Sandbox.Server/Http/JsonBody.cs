using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Http;

/// <summary>Reads a small JSON body for the token and admin endpoints: an empty body is the empty object; bad JSON is a 400 naming the field.</summary>
internal static class JsonBody
{
    private const long MaxBytes = 64 * 1024;

    public static async Task<(T? Value, ApiProblem? Problem)> ReadAsync<T>(HttpContext context, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : new()
    {
        var (body, unreadable) = await BodyReader.ReadAsync(context.Request, MaxBytes, cancellationToken);
        if (body is null)
        {
            return (default, unreadable);
        }

        if (body.Value.Length == 0)
        {
            return (new T(), null);
        }

        if (Core.Serialization.StrictJson.Check(body.Value.Span) is { } strict)
        {
            return (default, strict.Field is null
                ? Problems.MalformedJson($"the body {strict.Message}; send one object such as {{}}")
                : ApiProblem.Invalid([new Core.Runs.FieldError(strict.Field, strict.Message)]));
        }

        try
        {
            return (JsonSerializer.Deserialize(body.Value.Span, type) ?? new T(), null);
        }
        catch (JsonException ex)
        {
            return (default, Problems.FromJsonException(ex));
        }
    }
}
