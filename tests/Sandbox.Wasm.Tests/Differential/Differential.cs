namespace Sandbox.Wasm.Tests.Differential;

/// <summary>Runs one guest under our engine and under Node and asserts the same stdout and exit code.</summary>
internal static class Differential
{
    public static async Task<(GuestRun Ours, GuestRun Node)> AssertSameAsync(GuestInput input)
    {
        var node = GuestRequirement.Node();
        var ours = OurEngine.Run(input);
        var reference = await NodeWasi.RunAsync(node, input, TestContext.Current.CancellationToken);

        // Node's stderr first: when the reference itself failed, that is the message worth reading.
        reference.Stdout.ShouldBe(ours.Stdout, $"stdout differs; node stderr: {reference.Stderr}; our stderr: {ours.Stderr}");
        ours.ExitCode.ShouldBe(reference.ExitCode, $"exit code differs; node stderr: {reference.Stderr}; our stderr: {ours.Stderr}");
        TestContext.Current.SendDiagnosticMessage(
            $"{input.ProgramName} {string.Join(' ', input.Args.Take(1))}: ours {ours.Elapsed.TotalMilliseconds:F0} ms, node {reference.Elapsed.TotalMilliseconds:F0} ms (process included)");
        return (ours, reference);
    }

    public static string ProgramPath(params string[] parts) =>
        Path.Combine([AppContext.BaseDirectory, "Differential", .. parts]);
}
