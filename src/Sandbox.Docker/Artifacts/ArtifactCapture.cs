using Sandbox.Core.Limits;

namespace Sandbox.Docker.Artifacts;

/// <summary>What a run step needs to take its artifacts back: the nonce of its marker and the profile's caps.</summary>
public sealed record ArtifactCapture(string Nonce, ArtifactLimits Limits);
