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
}
