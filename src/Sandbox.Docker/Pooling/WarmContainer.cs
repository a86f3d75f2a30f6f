using Sandbox.Docker.Client;

namespace Sandbox.Docker.Pooling;

/// <summary>
/// A pool container, started and attached, its <c>sandbox-entry</c> blocked reading the file header from stdin: nothing
/// of any run is in it yet. A run that claims it owns it and removes it afterwards; it never serves a second run.
/// <c>PoolKey</c> names the pool it was made for, so the end of its run can wake that pool's refill.
/// </summary>
internal sealed record WarmContainer(string Id, IAttachedStream Attached, string CgroupParent, long CreatedAt, string PoolKey);
