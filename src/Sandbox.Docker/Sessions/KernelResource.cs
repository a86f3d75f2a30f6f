namespace Sandbox.Docker.Sessions;

/// <summary>The kernels' sources, embedded in this assembly from <c>Sessions/Kernels</c>.</summary>
internal static class KernelResource
{
    public static byte[] Read(string name)
    {
        using var stream = typeof(KernelResource).Assembly.GetManifestResourceStream("Sandbox.Docker.Sessions.Kernels." + name)
            ?? throw new InvalidOperationException($"the session kernel '{name}' is not embedded in the assembly");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
