using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Tests.Support;

using Sandbox.Core.Runs;

namespace Sandbox.Core.Tests.Runs;

public sealed class RunRequestValidatorTests
{
    private static (Sandbox.Core.Execution.RunPlan? Plan, IReadOnlyList<FieldError> Errors) Plan(RunRequest request, ProfileSet? profiles = null) =>
        RunRequestValidator.Plan(request, profiles ?? Some.Profiles(), "run_test");

    [Fact]
    public void Plan_ValidRequest_UsesTheLanguagesDefaultProfileAndItsLimits()
    {
        var (plan, errors) = Plan(Some.Request());

        errors.ShouldBeEmpty();
        plan.ShouldNotBeNull();
        plan.Profile.Name.ShouldBe("python");
        plan.Limits.ShouldBe(Some.Limits());
        plan.Runtime.ShouldBe(RuntimeNames.Runc);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Plan_EmptyCode_RejectsNamingCode(string code)
    {
        var (plan, errors) = Plan(Some.Request(code));

        plan.ShouldBeNull();
        errors.ShouldContain(e => e.Field == "code");
    }

    [Fact]
    public void Plan_CodeOverOneMebibyte_RejectsNamingCode()
    {
        var (_, errors) = Plan(Some.Request(new string('x', 1024 * 1024 + 1)));

        errors.ShouldHaveSingleItem().Field.ShouldBe("code");
    }

    [Fact]
    public void Plan_UnknownLanguage_RejectsListingKnownLanguages()
    {
        var (_, errors) = Plan(Some.Request(language: "cobol"));

        var error = errors.ShouldHaveSingleItem();
        error.Field.ShouldBe("language");
        error.Message.ShouldContain("python");
    }

    [Fact]
    public void Plan_UnknownProfile_RejectsNamingProfile()
    {
        var (_, errors) = Plan(Some.Request() with { Profile = "nope" });

        errors.ShouldHaveSingleItem().Field.ShouldBe("profile");
    }

    [Fact]
    public void Plan_ProfileOfAnotherLanguage_Rejects()
    {
        var profiles = Some.Profiles(("bash", Some.Profile("bash")));

        var (_, errors) = Plan(Some.Request() with { Profile = "bash" }, profiles);

        errors.ShouldHaveSingleItem().Message.ShouldContain("runs 'bash'");
    }

    [Fact]
    public void Plan_OverrideAboveProfile_RejectsNamingTheLimitAndTheCeiling()
    {
        var (_, errors) = Plan(Some.Request() with { Limits = new LimitOverrides { MemoryBytes = 1L << 40 } });

        var error = errors.ShouldHaveSingleItem();
        error.Field.ShouldBe("limits.memoryBytes");
        error.Message.ShouldContain(Some.Limits().MemoryBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Plan_OverridesBelowProfile_TightenOnlyThoseLimits()
    {
        var (plan, _) = Plan(Some.Request() with { Limits = new LimitOverrides { WallTimeMs = 500, Pids = 8 } });

        plan.ShouldNotBeNull();
        plan.Limits.WallTimeMs.ShouldBe(500);
        plan.Limits.Pids.ShouldBe(8);
        plan.Limits.MemoryBytes.ShouldBe(Some.Limits().MemoryBytes);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Plan_NonPositiveOverride_Rejects(long value)
    {
        var (_, errors) = Plan(Some.Request() with { Limits = new LimitOverrides { CpuTimeMs = value } });

        errors.ShouldHaveSingleItem().Field.ShouldBe("limits.cpuTimeMs");
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("a/../../b")]
    [InlineData("/etc/passwd")]
    [InlineData("a\0b")]
    [InlineData("a\nb")]
    [InlineData("")]
    [InlineData("a//b")]
    [InlineData("./a")]
    [InlineData("C:\\x")]
    public void Plan_UnsafeFilePath_RejectsNamingTheFile(string path)
    {
        var (_, errors) = Plan(Some.Request() with { Files = [new InputFile { Path = "ok.txt", Content = "" }, new InputFile { Path = path, Content = "x" }] });

        errors.ShouldHaveSingleItem().Field.ShouldBe("files[1].path");
    }

    [Fact]
    public void Plan_FileNamedLikeTheSource_Rejects()
    {
        var (_, errors) = Plan(Some.Request() with { Files = [new InputFile { Path = "main.py", Content = "" }] });

        errors.ShouldHaveSingleItem().Message.ShouldContain("reserved");
    }

    [Fact]
    public void Plan_OversizedStdin_RejectsNamingStdin()
    {
        var (_, errors) = Plan(Some.Request() with { Stdin = new string('x', 1024 * 1024 + 1) });

        errors.ShouldHaveSingleItem().Field.ShouldBe("stdin");
    }

    [Fact]
    public void Plan_WeakerRuntimeThanProfile_Rejects()
    {
        var profiles = Some.Profiles(("python-gvisor", Some.Profile(runtime: RuntimeNames.Runsc)));

        var (_, errors) = Plan(Some.Request() with { Profile = "python-gvisor", Runtime = RuntimeNames.Runc }, profiles);

        errors.ShouldHaveSingleItem().Field.ShouldBe("runtime");
    }

    [Theory]
    [InlineData(RuntimeNames.Runc, RuntimeNames.Crun)]
    [InlineData(RuntimeNames.Crun, RuntimeNames.Runc)]
    [InlineData(RuntimeNames.Crun, RuntimeNames.Runsc)]
    public void Plan_RuntimeAtLeastAsStrongAsProfiles_IsUsed(string profileRuntime, string requested)
    {
        var profiles = Some.Profiles(("python", Some.Profile(runtime: profileRuntime)));

        var (plan, errors) = Plan(Some.Request() with { Runtime = requested }, profiles);

        errors.ShouldBeEmpty();
        plan.ShouldNotBeNull().Runtime.ShouldBe(requested);
    }

    [Theory]
    [InlineData(RuntimeNames.Crun)]
    [InlineData(RuntimeNames.Runc)]
    public void Plan_KernelRuntimeForAGvisorProfile_RejectsNamingRuntime(string requested)
    {
        var profiles = Some.Profiles(("python-gvisor", Some.Profile(runtime: RuntimeNames.Runsc)));

        var (plan, errors) = Plan(Some.Request() with { Profile = "python-gvisor", Runtime = requested }, profiles);

        plan.ShouldBeNull();
        errors.ShouldHaveSingleItem().Field.ShouldBe("runtime");
    }

    [Theory]
    [InlineData("kata")]
    [InlineData("CRUN")]
    [InlineData("")]
    public void Plan_UnknownRuntime_RejectsNamingRuntimeAndTheKnownOnes(string requested)
    {
        var (plan, errors) = Plan(Some.Request() with { Runtime = requested });

        plan.ShouldBeNull();
        var error = errors.ShouldHaveSingleItem();
        error.Field.ShouldBe("runtime");
        error.Message.ShouldContain("'runc', 'crun' or 'runsc'");
    }

    [Fact]
    public void Plan_StrongerRuntimeThanProfile_IsUsed()
    {
        var (plan, _) = Plan(Some.Request() with { Runtime = RuntimeNames.Runsc });

        plan.ShouldNotBeNull().Runtime.ShouldBe(RuntimeNames.Runsc);
    }

    [Fact]
    public void Plan_SeveralProblems_ReportsEveryOneAtOnce()
    {
        var request = Some.Request("") with
        {
            Stdin = new string('x', 2 * 1024 * 1024),
            Files = [new InputFile { Path = "../x", Content = "" }],
            Limits = new LimitOverrides { WallTimeMs = 1_000_000 },
            Purpose = new string('p', 5000),
        };

        var (_, errors) = Plan(request);

        errors.Select(e => e.Field).ShouldBe(["code", "stdin", "files[0].path", "purpose", "limits.wallTimeMs"], ignoreOrder: true);
    }

    [Theory]
    [InlineData("a", "a/b")]
    [InlineData("a/b/c", "a/b")]
    [InlineData("main.py/x", "data.txt")]
    public void Plan_FileThatIsAlsoAFolder_IsRejectedNamingThePath(string first, string second)
    {
        var request = Some.Request() with { Files = [new InputFile { Path = first, Content = "1" }, new InputFile { Path = second, Content = "2" }] };

        var (plan, errors) = Plan(request);

        plan.ShouldBeNull();
        var error = errors.ShouldHaveSingleItem();
        error.Field.ShouldStartWith("files[");
        error.Message.ShouldContain("a file or a folder, not both");
    }

    [Fact]
    public void Plan_FilesMakingTooManyFolders_IsRejectedNamingTheMost()
    {
        // 64 files, each 14 folders deep: 64 + 64 * 14 entries, far past the cap, under the file count.
        var files = Enumerable.Range(0, RunRequestValidator.MaxFiles)
            .Select(i => new InputFile { Path = string.Join('/', Enumerable.Range(0, 14).Select(d => $"d{i}x{d}")) + "/f", Content = "" })
            .ToList();

        var (_, errors) = Plan(Some.Request() with { Files = files });

        var error = errors.ShouldHaveSingleItem();
        error.Field.ShouldBe("files");
        error.Message.ShouldContain($"the most allowed is {RunRequestValidator.MaxEntries}");
    }

    [Fact]
    public void Plan_FileSizeBelowTheCode_IsRejectedNamingTheFieldAndRange()
    {
        var (plan, errors) = Plan(Some.Request("print('hello')") with { Limits = new LimitOverrides { FileSizeBytes = 1 } });

        plan.ShouldBeNull();
        var error = errors.ShouldHaveSingleItem();
        error.Field.ShouldBe("limits.fileSizeBytes");
        error.Message.ShouldContain($"between 14 and {Some.Limits().FileSizeBytes}");
    }

    [Fact]
    public void Plan_TmpTooSmallForTheFiles_IsRejectedNamingTheFieldAndRange()
    {
        var minimums = new BackendMinimums { TmpBlockBytes = 4096 };
        var request = Some.Request() with
        {
            Files = [new InputFile { Path = "a", Content = "1" }, new InputFile { Path = "b", Content = "2" }],
            Limits = new LimitOverrides { TmpBytes = 8192 },
        };

        var (_, errors) = RunRequestValidator.Plan(request, Some.Profiles(), "run_test", _ => minimums);

        // The code and two files take a 4 KiB page each on a tmpfs.
        var error = errors.ShouldHaveSingleItem();
        error.Field.ShouldBe("limits.tmpBytes");
        error.Message.ShouldContain($"between 12288 and {Some.Limits().TmpBytes}");
    }

    [Fact]
    public void Plan_MemoryBelowTheBackendsMinimum_IsRejectedNamingTheFieldRangeAndReason()
    {
        var minimums = new BackendMinimums { MemoryBytes = 6L * 1024 * 1024, MemoryReason = "Docker's minimum container memory" };
        var request = Some.Request() with { Limits = new LimitOverrides { MemoryBytes = 1024 * 1024 } };

        var (plan, errors) = RunRequestValidator.Plan(request, Some.Profiles(), "run_test", _ => minimums);

        plan.ShouldBeNull();
        var error = errors.ShouldHaveSingleItem();
        error.Field.ShouldBe("limits.memoryBytes");
        error.Message.ShouldBe($"is 1048576; it must be between 6291456 and {Some.Limits().MemoryBytes} (Docker's minimum container memory)");
    }

    [Fact]
    public void Plan_MemoryAtTheBackendsMinimum_IsAccepted()
    {
        var minimums = new BackendMinimums { MemoryBytes = 6L * 1024 * 1024 };
        var request = Some.Request() with { Limits = new LimitOverrides { MemoryBytes = 6L * 1024 * 1024 } };

        var (plan, errors) = RunRequestValidator.Plan(request, Some.Profiles(), "run_test", _ => minimums);

        errors.ShouldBeEmpty();
        plan.ShouldNotBeNull();
    }
}
