namespace Sandbox.Docker.Client;

/// <summary>Status line and headers of an HTTP/1.1 response we parse ourselves (the attach hijack).</summary>
/// <param name="StatusCode">The status code, e.g. 101.</param>
/// <param name="ReasonPhrase">The reason phrase, e.g. <c>UPGRADED</c>.</param>
/// <param name="Headers">Header values by case-insensitive name; a repeated header keeps its last value.</param>
internal sealed record HttpResponseHead(int StatusCode, string ReasonPhrase, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>The value of <paramref name="name"/>, or null.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out string? value) ? value : null;
}
