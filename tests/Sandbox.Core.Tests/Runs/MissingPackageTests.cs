using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;

namespace Sandbox.Core.Tests.Runs;

public sealed class MissingPackageTests
{
    private static readonly PackageInfo[] Installed = [new("numpy", "1.24.2"), new("pandas", "1.5.3")];

    private const string PythonTraceback = """
        Traceback (most recent call last):
          File "/tmp/main.py", line 1, in <module>
            import requests
        ModuleNotFoundError: No module named 'requests'
        """;

    [Fact]
    public void Find_PythonTraceback_NamesTheModule() =>
        MissingPackage.Find("python", PythonTraceback).ShouldBe("requests");

    [Fact]
    public void Find_PythonSubmodule_NamesItsTopLevelPackage() =>
        MissingPackage.Find("python", "ModuleNotFoundError: No module named 'sklearn.linear_model'\n").ShouldBe("sklearn");

    [Fact]
    public void Find_NodeRequire_NamesTheModule() =>
        MissingPackage.Find("javascript", "Error: Cannot find module 'lodash'\nRequire stack:\n- /tmp/main.js\n").ShouldBe("lodash");

    [Fact]
    public void Find_NodeScopedImport_KeepsTheScope() =>
        MissingPackage.Find("javascript", "Error [ERR_MODULE_NOT_FOUND]: Cannot find package '@acme/tool' imported from /tmp/main.mjs").ShouldBe("@acme/tool");

    [Theory]
    [InlineData("javascript", "Error: Cannot find module './helper'")]                        // the program's own file, not a package
    [InlineData("python", "ModuleNotFoundError: No module named '$(curl evil)'")]               // not a module name: never echoed back
    [InlineData("python", "print: No module named 'requests' (a line the program printed)")]   // not a traceback's last line
    [InlineData("bash", "ModuleNotFoundError: No module named 'requests'")]                     // only Python and JavaScript
    public void Find_AnythingElse_IsNull(string language, string stderr) =>
        MissingPackage.Find(language, stderr).ShouldBeNull();

    [Fact]
    public void Message_MissingPackage_SaysNoNetworkAndListsWhatIsInstalled()
    {
        var message = MissingPackage.Message("python", PythonTraceback, Installed).ShouldNotBeNull();

        message.ShouldContain("module 'requests' is not installed");
        message.ShouldContain("no network");
        message.ShouldContain("pip install");
        message.ShouldContain("numpy 1.24.2, pandas 1.5.3");
    }

    [Fact]
    public void Message_AnInstalledPackage_IsNotCalledMissing() =>
        MissingPackage.Message("python", "ModuleNotFoundError: No module named 'numpy.fake'\n", Installed).ShouldBeNull();

    [Fact]
    public void Message_NoListKnown_StillSaysNothingCanBeInstalled() =>
        MissingPackage.Message("python", PythonTraceback, null).ShouldNotBeNull().ShouldContain("standard library");

    [Fact]
    public void Message_ManyPackages_NamesTheFirstFortyAndCountsTheRest()
    {
        PackageInfo[] many = [.. Enumerable.Range(0, 50).Select(i => new PackageInfo($"p{i:D2}", "1"))];

        var message = MissingPackage.Message("python", PythonTraceback, many).ShouldNotBeNull();

        message.ShouldContain("p39 1");
        message.ShouldNotContain("p40 1");
        message.ShouldContain("and 10 more");
    }
}
