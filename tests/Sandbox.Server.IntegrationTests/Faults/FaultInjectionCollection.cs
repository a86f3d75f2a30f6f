namespace Sandbox.Server.IntegrationTests.Faults;

/// <summary>
/// The fault-injection suite (issue 11): each test breaks one thing under a real <c>sandbox serve</c> and a real
/// dockerd (a crash, a full disk, a daemon that is away, stopped or killed). One at a time, after every parallel collection: the
/// daemon faults stop, kill and restart the shared dockerd (each test restores it), a fault must not land on a neighbour's run,
/// and the timings each test holds (readiness within a second, no container 5 s after recovery) need the machine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
#pragma warning disable CA1711 // xUnit's own idiom: a collection definition is named for the collection it defines.
public sealed class FaultInjectionCollection
#pragma warning restore CA1711
{
    public const string Name = "FaultInjection";
}
