using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Sandbox.Server.Hosting;

namespace Sandbox.Server.Http.Tests;

public sealed class RequestBodyBudgetTests
{
    private const long MiB = 1024 * 1024;

    private static RequestBodyBudget Budget() => new(new ServerOptions { MaxRequestBodyBytes = 8 * MiB, MaxAgentRequestBytesInFlight = 16 * MiB, MaxRequestBytesInFlight = 24 * MiB });

    [Fact]
    public void TryReserve_PastTheAgentsShare_Is429NamingTheCap_AndOthersStillFit()
    {
        var budget = Budget();
        var (first, _) = budget.TryReserve("agt_a", "a", 8 * MiB);
        var (second, _) = budget.TryReserve("agt_a", "a", 8 * MiB);

        var (third, refused) = budget.TryReserve("agt_a", "a", 1);

        (first, second).ShouldSatisfyAllConditions(() => first.ShouldNotBeNull(), () => second.ShouldNotBeNull());
        third.ShouldBeNull();
        refused.ShouldNotBeNull().Status.ShouldBe(429);
        refused.Cap.ShouldBe(RequestBodyBudget.Cap);
        refused.RetryAfterSeconds.ShouldBe(1);
        refused.Detail.ShouldNotBeNull().ShouldContain("MaxAgentRequestBytesInFlight");
        budget.TryReserve("agt_b", "b", 8 * MiB).Lease.ShouldNotBeNull("another agent has its own share");
    }

    [Fact]
    public void TryReserve_PastTheTotal_Is503ServerBusy()
    {
        var budget = Budget();
        budget.TryReserve("agt_a", "a", 16 * MiB).Lease.ShouldNotBeNull();
        budget.TryReserve("agt_b", "b", 8 * MiB).Lease.ShouldNotBeNull();

        var (lease, refused) = budget.TryReserve("agt_c", "c", 1);

        lease.ShouldBeNull();
        refused.ShouldNotBeNull().Status.ShouldBe(503);
        refused.Code.ShouldBe("server_busy");
        refused.RetryAfterSeconds.ShouldBe(1);
    }

    [Fact]
    public void Dispose_GivesTheBytesBack_Once()
    {
        var budget = Budget();
        var (lease, _) = budget.TryReserve("agt_a", "a", 16 * MiB);
        budget.TryReserve("agt_b", "b", 8 * MiB).Lease.ShouldNotBeNull();

        lease.ShouldNotBeNull().Dispose();
        lease.Dispose();

        budget.Reserved.ShouldBe(8 * MiB, "given back once, however often disposed");
        budget.TryReserve("agt_a", "a", 16 * MiB).Lease.ShouldNotBeNull();
    }

    [Theory]
    [InlineData(1000L, null, 1000L)]
    [InlineData(100L * 1024 * 1024, null, 8L * 1024 * 1024)] // past the cap: refused 413 unread, never more than the cap held
    [InlineData(0L, null, 0L)]
    [InlineData(null, true, RequestBodyBudget.ChunkedStartBytes)] // chunked: a start, grown as it is read
    [InlineData(null, false, 0L)]
    public void BytesOf_DeclaredLengthOrTheCap(long? length, bool? canHaveBody, long expected)
    {
        var context = new DefaultHttpContext();
        context.Request.ContentLength = length;
        if (canHaveBody is { } can)
        {
            context.Features.Set<IHttpRequestBodyDetectionFeature>(new BodyDetection(can));
        }

        Budget().BytesOf(context.Request).ShouldBe(expected);
    }

    [Fact]
    public void TryGrow_DoublesWithinTheShare_ThenIs429_AndDisposeGivesBackAllOfIt()
    {
        var budget = Budget();
        var (lease, _) = budget.TryReserve("agt_a", "a", RequestBodyBudget.ChunkedStartBytes);
        budget.TryReserve("agt_a", "a", 8 * MiB).Lease.ShouldNotBeNull();

        lease.ShouldNotBeNull().TryGrow(100_000).ShouldBeNull();
        lease.Bytes.ShouldBe(2 * RequestBodyBudget.ChunkedStartBytes, "doubled, not grown byte by byte");
        lease.TryGrow(8 * MiB).ShouldBeNull();
        var refused = lease.TryGrow(8 * MiB + 1);

        refused.ShouldNotBeNull().Cap.ShouldBe(RequestBodyBudget.Cap);
        lease.Bytes.ShouldBe(8 * MiB);
        lease.Dispose();
        budget.Reserved.ShouldBe(8 * MiB);
    }

    [Fact]
    public async Task BodyReader_ChunkedBodyPastTheAgentsShare_IsRefusedMidRead_AndTheConnectionClosed()
    {
        // A chunked body declares nothing up front: it is held to the share as it is read, not only by its declared length.
        var budget = Budget();
        budget.TryReserve("agt_a", "a", 12 * MiB).Lease.ShouldNotBeNull();
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(new byte[6 * 1024 * 1024]);
        var (lease, _) = budget.TryReserve(context, "agt_a", "a", RequestBodyBudget.ChunkedStartBytes);
        lease.ShouldNotBeNull();

        var (body, problem) = await BodyReader.ReadAsync(context.Request, 8 * MiB, TestContext.Current.CancellationToken);

        body.ShouldBeNull();
        problem.ShouldNotBeNull().Status.ShouldBe(429);
        problem.Cap.ShouldBe(RequestBodyBudget.Cap);
        context.Response.Headers.Connection.ToString().ShouldBe("close");
        budget.Reserved.ShouldBeLessThanOrEqualTo(16 * MiB);
    }

    [Fact]
    public async Task BodyReader_ChunkedBodyWithinTheShare_IsReadWhole()
    {
        var budget = Budget();
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(new byte[3 * 1024 * 1024]);
        var (lease, _) = budget.TryReserve(context, "agt_a", "a", RequestBodyBudget.ChunkedStartBytes);

        var (body, problem) = await BodyReader.ReadAsync(context.Request, 8 * MiB, TestContext.Current.CancellationToken);

        problem.ShouldBeNull();
        body.ShouldNotBeNull().Length.ShouldBe(3 * 1024 * 1024);
        lease.ShouldNotBeNull().Bytes.ShouldBeGreaterThanOrEqualTo(3 * MiB);
    }

    private sealed class BodyDetection(bool canHaveBody) : IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody { get; } = canHaveBody;
    }
}
