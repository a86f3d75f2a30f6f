using Sandbox.Server.Hosting;

// The service on its own (`dotnet run --project src/Sandbox.Server`); `sandbox serve` runs the same builder.
var app = SandboxServer.Build(args);
await app.RunAsync();

/// <summary>The entry point, public so WebApplicationFactory can host the service in tests.</summary>
public partial class Program;
