using Sandbox.Guard.Audit;

namespace Sandbox.Guard.Tests.Audit;

public sealed class AuditChainTests
{
    private static readonly DateTimeOffset s_start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Verify_WellFormedChain_IsIntactWithItsHead()
    {
        var chain = Chain(5);

        AuditChain.Verify(chain).ShouldBe(new AuditVerification(true, 5, null, null, chain[^1].Hash));
    }

    [Fact]
    public void Verify_Empty_IsIntactAtGenesis() =>
        AuditChain.Verify([]).ShouldBe(new AuditVerification(true, 0, null, null, AuditChain.Genesis));

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void Verify_ChangedData_ReportsThatRecord(int changed)
    {
        var chain = Chain(5);
        chain[changed - 1] = chain[changed - 1] with { Data = "{\"forged\":true}" };

        var verification = AuditChain.Verify(chain);

        verification.Intact.ShouldBeFalse();
        verification.FirstBrokenSequence.ShouldBe(changed);
        verification.RecordsChecked.ShouldBe(changed - 1);
        verification.Problem.ShouldNotBeNull().ShouldContain("changed after it was written");
        verification.HeadHash.ShouldBeNull();
    }

    [Fact]
    public void Verify_EachFieldChanged_IsDetected()
    {
        var record = Chain(1)[0];
        AuditRecord[] forgeries =
        [
            record with { Time = record.Time.AddTicks(1) },
            record with { Kind = AuditKinds.Admin },
            record with { AgentId = null },
            record with { RunId = "run_other" },
            record with { Status = "allowed" },
            record with { Data = record.Data + " " },
        ];

        foreach (var forged in forgeries)
        {
            AuditChain.Verify([forged]).FirstBrokenSequence.ShouldBe(1);
        }
    }

    [Fact]
    public void Verify_RecordMissing_ReportsTheGap()
    {
        var chain = Chain(5);
        chain.RemoveAt(2);

        var verification = AuditChain.Verify(chain);

        verification.FirstBrokenSequence.ShouldBe(4);
        verification.Problem.ShouldNotBeNull().ShouldContain("records 3..3 are missing");
    }

    [Fact]
    public void Verify_SequenceRepeats_ReportsItGoesBackwards()
    {
        var chain = Chain(3);
        chain.Add(chain[1]);

        var verification = AuditChain.Verify(chain);

        verification.FirstBrokenSequence.ShouldBe(2);
        verification.RecordsChecked.ShouldBe(3);
        verification.Problem.ShouldNotBeNull().ShouldContain("backwards");
    }

    [Fact]
    public void Verify_ContentsOfTwoRecordsSwapped_ReportsTheFirst()
    {
        var chain = Chain(4);
        (chain[1], chain[2]) = (chain[2] with { Sequence = 2 }, chain[1] with { Sequence = 3 });

        AuditChain.Verify(chain).FirstBrokenSequence.ShouldBe(2);
    }

    [Fact]
    public void Verify_RecordChangedAndRehashed_ReportsTheNextLink()
    {
        var chain = Chain(4);
        var forged = chain[1] with { Data = "{\"forged\":true}" };
        chain[1] = forged with { Hash = AuditChain.ComputeHash(forged) };

        var verification = AuditChain.Verify(chain);

        verification.FirstBrokenSequence.ShouldBe(3);
        verification.Problem.ShouldNotBeNull().ShouldContain("does not link to record 2");
    }

    [Fact]
    public void Verify_WholeChainRehashedFromAChangedRecord_IsIntactButHasAnotherHead()
    {
        // The chain alone cannot catch a forger who rewrites everything after the change; the head
        // hash, kept somewhere else, can.
        var chain = Chain(4);
        var rewritten = Chain(4, changeData: 2);

        var original = AuditChain.Verify(chain);
        var forged = AuditChain.Verify(rewritten);

        forged.Intact.ShouldBeTrue();
        forged.HeadHash.ShouldNotBe(original.HeadHash);
    }

    [Fact]
    public void Verify_FirstRecordNotLinkedToGenesis_ReportsIt()
    {
        var chain = Chain(2);
        var first = chain[0] with { PreviousHash = new string('f', 64) };
        chain[0] = first with { Hash = AuditChain.ComputeHash(first) };

        AuditChain.Verify(chain).FirstBrokenSequence.ShouldBe(1);
    }

    [Fact]
    public void CanonicalText_IsAJsonArrayOfEveryFieldWithNulls() =>
        AuditChain.CanonicalText(7, "2026-01-01T00:00:00.0000000Z", "decision", null, "run_1", "allowed", "{\"a\":1}", "abc")
            .ShouldBe("[7,\"2026-01-01T00:00:00.0000000Z\",\"decision\",null,\"run_1\",\"allowed\",\"{\\u0022a\\u0022:1}\",\"abc\"]");

    [Fact]
    public void CanonicalText_FieldsCannotRunIntoEachOther() =>
        AuditChain.ComputeHash(1, "t", "ab", "c", null, null, "{}", AuditChain.Genesis)
            .ShouldNotBe(AuditChain.ComputeHash(1, "t", "a", "bc", null, null, "{}", AuditChain.Genesis));

    [Fact]
    public void FormatTime_AnyOffset_IsTheSameFixedUtcText()
    {
        var utc = new DateTimeOffset(2026, 3, 1, 10, 30, 15, TimeSpan.Zero).AddTicks(1234567);

        AuditChain.FormatTime(utc).ShouldBe("2026-03-01T10:30:15.1234567Z");
        AuditChain.FormatTime(utc.ToOffset(TimeSpan.FromHours(5.5))).ShouldBe("2026-03-01T10:30:15.1234567Z");
    }

    [Fact]
    public void Verify_AnchorsStillInTheChain_AreIntactAndTheHeadIsAnAnchor()
    {
        var chain = Chain(5);
        var head = AuditChain.Verify(chain).Head.ShouldNotBeNull();

        var verification = AuditChain.Verify(chain, [new AuditAnchor(2, chain[1].Hash), head, AuditAnchor.Genesis]);

        head.ShouldBe(new AuditAnchor(5, chain[4].Hash));
        verification.Intact.ShouldBeTrue(verification.Problem);
    }

    /// <summary>Attack: cut the last records off. The chain that is left links perfectly; only an anchor kept elsewhere shows the loss.</summary>
    [Fact]
    public void Verify_RecordsCutOffTheEnd_AreFoundOnlyByAnAnchor()
    {
        var chain = Chain(5);
        var anchor = AuditChain.Verify(chain).Head!;
        var cut = chain.Take(3).ToList();

        AuditChain.Verify(cut).Intact.ShouldBeTrue("a shorter chain is still a chain");
        var verification = AuditChain.Verify(cut, [anchor]);

        verification.Intact.ShouldBeFalse();
        verification.FirstBrokenSequence.ShouldBe(4);
        verification.RecordsChecked.ShouldBe(3);
        verification.Problem.ShouldNotBeNull().ShouldContain("cut off the end");
        verification.Head.ShouldBeNull();
    }

    /// <summary>Attack: rewrite record 2 and rehash everything after it, so every link holds. The anchor's hash no longer matches.</summary>
    [Fact]
    public void Verify_LogRewrittenAndRehashed_IsFoundByAnAnchorAtOrAfterTheChange()
    {
        var original = Chain(5);
        var rewritten = Chain(5, changeData: 2);

        AuditChain.Verify(rewritten).Intact.ShouldBeTrue("rehashed from the change on, the chain links");
        var verification = AuditChain.Verify(rewritten, [new AuditAnchor(4, original[3].Hash)]);

        verification.Intact.ShouldBeFalse();
        verification.FirstBrokenSequence.ShouldBe(4);
        verification.Problem.ShouldNotBeNull().ShouldContain("rewritten");
        AuditChain.Verify(rewritten, [new AuditAnchor(1, original[0].Hash)]).Intact.ShouldBeTrue("records before the change are untouched");
    }

    [Fact]
    public void Verify_AnchorAtZeroOtherThanGenesis_IsBroken() =>
        AuditChain.Verify(Chain(2), [new AuditAnchor(0, new string('a', 64))]).Intact.ShouldBeFalse();

    /// <summary>A correctly linked chain; <paramref name="changeData"/> gives that record other data before hashing.</summary>
    private static List<AuditRecord> Chain(int count, int changeData = 0)
    {
        var records = new List<AuditRecord>();
        var previous = AuditChain.Genesis;
        for (var sequence = 1; sequence <= count; sequence++)
        {
            var record = new AuditRecord
            {
                Sequence = sequence,
                Time = s_start.AddMilliseconds(sequence),
                Kind = sequence % 2 == 0 ? AuditKinds.Decision : AuditKinds.Request,
                AgentId = "agt_0123456789abcdef",
                RunId = $"run_{sequence}",
                Status = sequence % 2 == 0 ? "allowed" : null,
                Data = sequence == changeData ? "{\"forged\":true}" : $"{{\"n\":{sequence}}}",
                PreviousHash = previous,
                Hash = "",
            };
            record = record with { Hash = AuditChain.ComputeHash(record) };
            records.Add(record);
            previous = record.Hash;
        }

        return records;
    }
}
