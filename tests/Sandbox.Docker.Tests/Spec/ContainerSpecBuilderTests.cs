using System.Text.Json;
using Sandbox.Docker.Client;
using Sandbox.Docker.Spec;
using Sandbox.Docker.Tests.Support;

namespace Sandbox.Docker.Tests.Spec;

/// <summary>Every hardening field of the container spec, asserted one by one.</summary>
public sealed class ContainerSpecBuilderTests
{
    private static ContainerCreateRequest Build(bool tmpExec = false, string runtime = "runc") =>
        ContainerSpecBuilder.Build(SomeStep.Step(tmpExec, runtime), SeccompProfile.Runner).Request;

    [Fact]
    public void Build_RunsAsNobodyNeverRoot() => Build().User.ShouldBe("65534:65534");

    [Fact]
    public void Build_RootFilesystemIsReadOnly() => Build().HostConfig.ReadonlyRootfs.ShouldBeTrue();

    [Fact]
    public void Build_TmpIsASizeAndInodeLimitedNoexecTmpfs()
    {
        var tmpfs = Build().HostConfig.Tmpfs.ShouldNotBeNull();

        var options = tmpfs.ShouldHaveSingleItem().Value.Split(',');
        tmpfs.Keys.ShouldBe(["/tmp"]);
        options.ShouldContain("noexec");
        options.ShouldContain("nosuid");
        options.ShouldContain("nodev");
        options.ShouldContain($"size={64L * 1024 * 1024}");
        options.ShouldContain(o => o.StartsWith("nr_inodes=", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_TmpExecProfile_AllowsExecOnlyThere()
    {
        var options = Build(tmpExec: true).HostConfig.Tmpfs!["/tmp"].Split(',');

        options.ShouldContain("exec");
        options.ShouldNotContain("noexec");
        options.ShouldContain("nosuid");
    }

    [Fact]
    public void Build_HasNoNetwork()
    {
        var request = Build();

        request.HostConfig.NetworkMode.ShouldBe("none");
        request.NetworkDisabled.ShouldBeTrue();
    }

    [Fact]
    public void Build_DropsAllCapabilitiesAndAddsNone()
    {
        var host = Build().HostConfig;

        host.CapDrop.ShouldBe(["ALL"]);
        host.CapAdd.ShouldBeNull();
        host.Privileged.ShouldBeFalse();
    }

    [Fact]
    public void Build_SetsNoNewPrivilegesAndSendsOurSeccompProfileInline()
    {
        var securityOpt = Build().HostConfig.SecurityOpt.ShouldNotBeNull();

        securityOpt.ShouldContain("no-new-privileges");
        var seccomp = securityOpt.Single(o => o.StartsWith("seccomp=", StringComparison.Ordinal))["seccomp=".Length..];
        seccomp.ShouldBe(SeccompProfile.Runner.Json);
        using var document = JsonDocument.Parse(seccomp);
        document.RootElement.GetProperty("defaultAction").GetString().ShouldNotBe("SCMP_ACT_ALLOW");
    }

    [Fact]
    public void Build_LimitsPidsMemoryWithoutSwapAndCpu()
    {
        var host = Build().HostConfig;

        host.PidsLimit.ShouldBe(64);
        host.Memory.ShouldBe(256L * 1024 * 1024);
        host.MemorySwap.ShouldBe(host.Memory);
        host.MemorySwappiness.ShouldBe(0);
        host.OomKillDisable.ShouldBe(false);
        host.NanoCpus.ShouldBe(1_000_000_000);
    }

    [Fact]
    public void Build_SetsUlimitsForFilesFileSizeCoreAndCpu()
    {
        var ulimits = Build().HostConfig.Ulimits.ShouldNotBeNull().ToDictionary(u => u.Name);

        ulimits["nofile"].ShouldBe(new Ulimit("nofile", 256, 256));
        ulimits["fsize"].ShouldBe(new Ulimit("fsize", 16L * 1024 * 1024, 16L * 1024 * 1024));
        ulimits["core"].ShouldBe(new Ulimit("core", 0, 0));
        ulimits["cpu"].Soft.ShouldBe(4); // 2.5 s rounded up, plus a second: the per-process backstop never fires before the cgroup meter
    }

    [Fact]
    public void Build_UsesInitAndPrivateIpc()
    {
        var host = Build().HostConfig;

        host.Init.ShouldBe(true);
        host.IpcMode.ShouldBe("private");
        host.ShmSize.ShouldNotBeNull().ShouldBeLessThanOrEqualTo(16L * 1024 * 1024);
    }

    [Fact]
    public void Build_LogsNothingAndKeepsDefaultMaskedPaths()
    {
        var host = Build().HostConfig;

        host.LogConfig.ShouldNotBeNull().Type.ShouldBe("none");
        host.MaskedPaths.ShouldBeNull();
        host.ReadonlyPaths.ShouldBeNull();
    }

    [Fact]
    public void Build_SerializedJson_OmitsMaskedPathsInsteadOfSendingAnEmptyList()
    {
        var json = JsonSerializer.Serialize(Build(), DockerJsonContext.Default.ContainerCreateRequest);

        json.ShouldNotContain("MaskedPaths");
        json.ShouldNotContain("ReadonlyPaths");
        json.ShouldNotContain("Binds");
        json.ShouldContain("\"AutoRemove\":false");
    }

    [Fact]
    public void Build_MountsNoHostPath() => Build().HostConfig.Binds.ShouldBeNull();

    [Fact]
    public void Build_PassesOnlyTheAllowListedEnvironment() => Build().Env.ShouldBe(["HOME=/tmp", "LANG=C.UTF-8"]);

    [Fact]
    public void Build_LabelsTheContainerForTheReaper()
    {
        var labels = Build().Labels.ShouldNotBeNull();

        labels[SandboxLabels.Managed].ShouldBe("true");
        labels[SandboxLabels.RunId].ShouldBe("run_abc");
        labels[SandboxLabels.Step].ShouldBe("run");
        labels[SandboxLabels.Deadline].ShouldBe("1700000000000");
    }

    [Fact]
    public void Build_RemovesExplicitlyNeverAutoRemove() => Build().HostConfig.AutoRemove.ShouldBeFalse();

    [Fact]
    public void Build_StartsOurEntryWithTheProfileCommandAndNoTty()
    {
        var request = Build();

        request.Entrypoint.ShouldBe(["/usr/local/bin/sandbox-entry"]);
        request.Cmd.ShouldBe(["python3", "main.py"]);
        request.Tty.ShouldBeFalse();
        request.OpenStdin.ShouldBeTrue();
        request.StdinOnce.ShouldBeTrue();
        request.WorkingDir.ShouldBe("/tmp");
        request.Hostname.ShouldBe("sandbox");
    }

    [Fact]
    public void Build_UnderGvisor_AddsTheSentrysOwnThreadsToThePidsLimit() =>
        Build(runtime: "runsc").HostConfig.PidsLimit.ShouldBe(64 + ContainerSpecBuilder.GvisorPidsOverhead);

    [Theory]
    [InlineData("runc")]
    [InlineData("runsc")]
    public void Build_UsesTheRuntimeAndOurCgroupParent(string runtime)
    {
        var host = Build(runtime: runtime).HostConfig;

        host.Runtime.ShouldBe(runtime);
        host.CgroupParent.ShouldBe("/sandbox/run_abc-run");
    }
}
