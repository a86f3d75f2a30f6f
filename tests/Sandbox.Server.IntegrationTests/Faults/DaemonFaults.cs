namespace Sandbox.Server.IntegrationTests.Faults;

/// <summary>
/// The fault-injection suite stops, kills and restarts the shared dockerd: no other test may run beside it, and each test
/// restores the daemon before it ends (see <see cref="DockerDaemon.RestoreAsync"/>).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DaemonFaults
{
    public const string Name = "daemon faults";
}
