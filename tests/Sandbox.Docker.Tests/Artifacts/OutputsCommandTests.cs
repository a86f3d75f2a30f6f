using Sandbox.Docker.Artifacts;

namespace Sandbox.Docker.Tests.Artifacts;

public sealed class OutputsCommandTests
{
    private static readonly string[] s_command = ["python3", "main.py"];
    private static readonly string[] s_prestart = ["python3", "-c", "import sandbox_prestart; sandbox_prestart.main()", "main.py"];

    [Fact]
    public void RunCommand_NeitherOption_IsTheBareCommandTheEntryExecs() =>
        OutputsCommand.RunCommand(s_command, prestart: null, outputs: false).ShouldBe(s_command);

    [Fact]
    public void RunCommand_Outputs_EntryOptionThenTheProfilesCommand() =>
        OutputsCommand.RunCommand(s_command, prestart: null, outputs: true).ShouldBe(["--outputs", "--", "python3", "main.py"]);

    [Fact]
    public void RunCommand_Prestart_TheEntryStartsThePrestartCommandNotTheCommand() =>
        OutputsCommand.RunCommand(s_command, s_prestart, outputs: false).ShouldBe(["--prestart", "--", .. s_prestart]);

    [Fact]
    public void RunCommand_Both_BothOptionsBeforeTheSeparator() =>
        OutputsCommand.RunCommand(s_command, s_prestart, outputs: true).ShouldBe(["--outputs", "--prestart", "--", .. s_prestart]);

    [Fact]
    public void Markers_CarryTheNonceAfterTheirFixedPrefix()
    {
        OutputsCommand.Marker("abc").ShouldBe([.. OutputsCommand.MarkerPrefix, .. "abc\n"u8.ToArray()]);
        OutputsCommand.EndMarker("abc").ShouldBe([.. OutputsCommand.EndMarkerPrefix, .. "abc "u8.ToArray()]);
    }
}
