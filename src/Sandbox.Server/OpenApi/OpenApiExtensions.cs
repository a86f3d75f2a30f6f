using Microsoft.Extensions.DependencyInjection;

namespace Sandbox.Server.OpenApi;

/// <summary>The <c>/openapi/v1.json</c> document: the framework's description of the endpoints, completed by our transformers.</summary>
internal static class OpenApiExtensions
{
    public static IServiceCollection AddSandboxOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer<SandboxDocumentTransformer>();
            o.AddOperationTransformer<SandboxOperationTransformer>();
            o.AddSchemaTransformer<SandboxSchemaTransformer>();
        });
}
