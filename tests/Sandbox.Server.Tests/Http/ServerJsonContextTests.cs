using System.Text.Json;

namespace Sandbox.Server.Http.Tests;

public sealed class ServerJsonContextTests
{
    [Fact]
    public void Deserialize_DuplicateKey_ThrowsRatherThanLastWins()
    {
        // The source-generated context honours AllowDuplicateProperties = false: whoever binds with it cannot be fooled.
        Should.Throw<JsonException>(() => JsonSerializer.Deserialize("{\"language\": \"python\", \"code\": \"a\", \"code\": \"b\"}", ServerJsonContext.Default.RunRequestBody));
    }
}
