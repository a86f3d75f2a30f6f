using System.Security.Cryptography;
using System.Text;
using Sandbox.Core.Runs;
using Sandbox.Guard.Policy;
using Sandbox.Guard.Tests.Store;

namespace Sandbox.Guard.Tests.Policy;

public sealed class AuditRecordsTests
{
    /// <summary>
    /// The hash is taken in slices (a request's code can be megabytes): it must be the hash of the whole text's UTF-8, at
    /// every length around a slice's edge, with a surrogate pair split across it, and with a lone surrogate (which UTF-8
    /// replaces) anywhere.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(4096)]
    [InlineData(4097)]
    [InlineData(12_289)]
    [InlineData(1_000_003)]
    public void Sha256_IsTheHashOfTheWholeTextsUtf8(int length)
    {
        var random = new Random(length);
        var text = new StringBuilder(length);
        while (text.Length < length)
        {
            text.Append(random.Next(6) switch
            {
                0 => "\U0001F600",                      // a surrogate pair, which may straddle a slice
                1 => "é",
                2 => "\uD800",                          // a lone high surrogate
                3 => "\uDC00",                          // a lone low surrogate
                _ => ((char)random.Next(32, 127)).ToString(),
            });
        }

        var whole = text.ToString(0, length);
        AuditRecords.Sha256(whole).ShouldBe(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(whole))));
    }

    [Fact]
    public void Sha256_ASurrogatePairOnTheSlicesEdge_IsNotSplit()
    {
        var text = new string('a', 4095) + "\U0001F600" + "b";
        AuditRecords.Sha256(text).ShouldBe(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))));
    }

    /// <summary>
    /// Attack: requests the guard turns away (unknown names, too many files, over a cap) whose bulk is in a field other
    /// than the code: each of them 7 MB, or 220,000 file entries. Refusals have no cap of their own, and before each was
    /// recorded whole: the store grew by 7-25 MB per refusal. Expected: every caller text cut (names and paths at
    /// <see cref="AuditRecords.MaxUncheckedNameChars"/>, the purpose at <see cref="AuditRecords.MaxUncheckedTextChars"/>)
    /// with its length and hash, the files cut at <see cref="AuditRecords.MaxUncheckedFiles"/> with their count, and the
    /// whole record a few KiB.
    /// </summary>
    [Fact]
    public void Request_Refused_KeepsEachCallerTextCutAndTheFilesCounted_InAFewKiB()
    {
        var bulk = new string('p', 7 * 1024 * 1024);
        var request = new RunRequest
        {
            Language = "l" + bulk,
            Code = "print(1)",
            Profile = "p" + bulk,
            Backend = "b" + bulk,
            Runtime = "r" + bulk,
            Purpose = "u" + bulk,
            Files = [.. Enumerable.Range(0, 220_000).Select(i => new InputFile { Path = i == 0 ? "a" + bulk : $"f{i}", Content = "" }), null!],
        };

        var data = AuditRecords.Request(Principal(), request, "run_1", resolvedProfile: null, "node", withCode: false).Data;

        data.ToJsonString().Length.ShouldBeLessThan(12 * 1024);
        foreach (var field in new[] { "language", "profile", "requestedProfile", "backend", "runtime", "purpose" })
        {
            ((string)data[field]!).Length.ShouldBe((field == "purpose" ? AuditRecords.MaxUncheckedTextChars : AuditRecords.MaxUncheckedNameChars) + 1, field);
            ((string)data[field]!).ShouldEndWith("…");
            ((int)data["clipped"]![field]!["chars"]!).ShouldBe(bulk.Length + 1, field);
        }

        ((string?)data["clipped"]!["profile"]!["sha256"]).ShouldBe(AuditRecords.Sha256(request.Profile));
        ((string?)data["clipped"]!["files[0].path"]!["sha256"]).ShouldBe(AuditRecords.Sha256(request.Files[0].Path));
        data["files"]!.AsArray().Count.ShouldBe(AuditRecords.MaxUncheckedFiles);
        ((string?)data["files"]![1]!["path"]).ShouldBe("f1", "a short path is kept as it was");
        ((int)data["filesCount"]!).ShouldBe(220_001);
        ((int)data["filesOmitted"]!).ShouldBe(220_001 - AuditRecords.MaxUncheckedFiles);
    }

    /// <summary>An admitted request was validated: its record keeps every field whole, its code included, and cuts nothing.</summary>
    [Fact]
    public void Request_Admitted_KeepsEveryFieldWhole()
    {
        var purpose = new string('u', 1000);
        var path = new string('a', RelativePath.MaxLength);
        var request = new RunRequest
        {
            Language = "python",
            Code = new string('#', 100_000),
            Purpose = purpose,
            Files = [.. Enumerable.Range(0, RunRequestValidator.MaxFiles).Select(i => new InputFile { Path = path[..^3] + i.ToString("000", System.Globalization.CultureInfo.InvariantCulture), Content = "x" })],
        };

        var data = AuditRecords.Request(Principal(), request, "run_1", "python", "node", withCode: true).Data;

        ((string?)data["code"]).ShouldBe(request.Code);
        ((string?)data["purpose"]).ShouldBe(purpose);
        data["files"]!.AsArray().Count.ShouldBe(RunRequestValidator.MaxFiles);
        ((string?)data["files"]![63]!["path"]).ShouldBe(request.Files[63].Path);
        data["clipped"].ShouldBeNull();
        data["filesCount"].ShouldBeNull();
    }

    /// <summary>A refusal's reason quotes the request (an invalid one's errors name its values): cut, saying its length.</summary>
    [Fact]
    public void Decision_ReasonPastTheCap_IsCutAndSaysItsLength()
    {
        var reason = "files[0].path: '" + new string('a', 100_000) + "' is given more than once";

        var kept = (string)AuditRecords.Decision(Principal(), "run_1", "rejected", "invalid_request", reason).Data["reason"]!;

        kept.Length.ShouldBeLessThan(AuditRecords.MaxUncheckedTextChars + 64);
        kept.ShouldStartWith(reason[..AuditRecords.MaxUncheckedTextChars]);
        kept.ShouldEndWith($"(cut here: {reason.Length} characters in all)");
        ((string)AuditRecords.Decision(Principal(), "run_1", "allowed", null, "within every cap").Data["reason"]!).ShouldBe("within every cap");
    }

    private static Principal Principal()
    {
        var agent = Some.Agent();
        return new Principal(agent, Some.Key(agent));
    }
}
