using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Regards.Portal.Downloads;

namespace Regards.Portal.Tests.Downloads;

/// <summary>The pieces of the delivery rules on their own: byte ranges, the not-ready throttle, the response writer.</summary>
[Trait("Tier", "Fast")]
public sealed class DeliveryUnitTests
{
    // ---- byte ranges -----------------------------------------------------------------------------------------

    [Fact]
    public void Ranges_merge_when_they_overlap_or_touch_in_any_order_and_cover_a_file_only_whole()
    {
        var ranges = new ByteRanges().Add(200, 300).Add(0, 100).Add(250, 400);
        Assert.Equal("0-100,200-400", ranges.Format());
        Assert.False(ranges.Covers(400));
        ranges.Add(100, 200); // touches both neighbours
        Assert.Equal("0-400", ranges.Format());
        Assert.True(ranges.Covers(400));
        Assert.False(ranges.Covers(401));
        Assert.Equal(400, ranges.Length);
        Assert.True(new ByteRanges().Covers(0));
        Assert.False(new ByteRanges().Add(1, 400).Covers(400));
    }

    [Fact]
    public void Stored_ranges_round_trip_ignore_malformed_parts_and_empty_ranges()
    {
        Assert.Equal("0-10,20-30", ByteRanges.Parse("20-30,0-10").Format());
        Assert.Equal("5-9", ByteRanges.Parse("x,5-9,-3-4,7-7,9-2,a-b,").Format());
        Assert.Empty(ByteRanges.Parse(null).Ranges);
        Assert.Empty(new ByteRanges().Add(5, 5).Add(-1, 3).Ranges);
    }

    [Fact]
    public void Ranges_are_bounded_by_forgetting_the_smallest()
    {
        var ranges = new ByteRanges();
        for (var i = 0; i < ByteRanges.MaxRanges + 10; i++)
        {
            // Every other byte, each range one byte longer than the previous one.
            ranges.Add(i * 1000, i * 1000 + 1 + i);
        }
        ranges.Bounded();
        Assert.Equal(ByteRanges.MaxRanges, ranges.Ranges.Count);
        Assert.Equal(10_000, ranges.Ranges[0].From); // the ten smallest went
        Assert.True(ranges.Format().Length <= ByteRanges.MaxTextLength);
        var longest = new ByteRanges();
        for (var i = 0; i < ByteRanges.MaxRanges; i++)
        {
            longest.Add(long.MaxValue - 2 * (i + 1), long.MaxValue - 2 * i - 1);
        }
        Assert.True(longest.Format().Length <= ByteRanges.MaxTextLength);
    }

    // ---- not-ready throttle ----------------------------------------------------------------------------------

    [Fact]
    public void Past_its_share_of_not_ready_answers_a_caller_waits_until_the_window_ends_for_that_file_only()
    {
        var time = new FakeTimeProvider();
        var throttle = new NotReadyThrottle(Options.Create(new DownloadOptions { RetryAfterSeconds = 10, NotReadyRequestLimit = 3 }), time);

        for (var i = 0; i < 3; i++)
        {
            Assert.Null(throttle.RetryAfter("a@x", 1));
            Assert.True(throttle.TryCount("a@x", 1, 7, null, out _));
        }
        Assert.False(throttle.TryCount("A@X", 1, 7, null, out var wait)); // case does not matter
        Assert.Equal(10, wait);
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(6, throttle.RetryAfter("a@x", 1));
        Assert.Null(throttle.RetryAfter("a@x", 2)); // another file
        Assert.Null(throttle.RetryAfter("b@x", 1)); // another caller
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.Null(throttle.RetryAfter("a@x", 1)); // a new window
        Assert.True(throttle.TryCount("a@x", 1, 7, null, out _));
    }

    [Fact]
    public void A_change_of_the_order_or_its_expiration_date_lifts_the_wait_at_once()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
        var throttle = new NotReadyThrottle(Options.Create(new DownloadOptions { RetryAfterSeconds = 30, NotReadyRequestLimit = 1 }), time);
        var expires = time.GetUtcNow().UtcDateTime.AddSeconds(5);
        throttle.TryCount("a@x", 1, 7, expires, out _);
        throttle.TryCount("a@x", 2, 8, null, out _);
        Assert.NotNull(throttle.RetryAfter("a@x", 1));
        Assert.NotNull(throttle.RetryAfter("a@x", 2));

        throttle.Lift(8); // e.g. the file became available
        Assert.Null(throttle.RetryAfter("a@x", 2));
        Assert.NotNull(throttle.RetryAfter("a@x", 1));
        time.Advance(TimeSpan.FromSeconds(5)); // the order's expiration date: the lookup answers (404), not the throttle
        Assert.Null(throttle.RetryAfter("a@x", 1));
    }

    // ---- response writer -------------------------------------------------------------------------------------

    /// <summary>A response body on a pipe, as Kestrel's: aborting completes the reader (the connection is gone).</summary>
    private sealed class PipeResponse : IHttpResponseBodyFeature, IHttpRequestLifetimeFeature
    {
        public Pipe Pipe { get; } = new(new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, useSynchronizationContext: false));

        public HttpContext Context { get; }

        public int Aborts;

        public PipeResponse()
        {
            Context = new DefaultHttpContext();
            Context.Features.Set<IHttpResponseBodyFeature>(this);
            Context.Features.Set<IHttpRequestLifetimeFeature>(this);
        }

        public PipeWriter Writer => Pipe.Writer;
        public Stream Stream => Pipe.Writer.AsStream();
        public CancellationToken RequestAborted { get; set; }

        public void Abort()
        {
            Interlocked.Increment(ref Aborts);
            Pipe.Reader.Complete();
        }

        public void DisableBuffering()
        {
        }

        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task CompleteAsync() => Task.CompletedTask;
    }

    private static StallWatchdog Watchdog(TimeProvider time, int rate = 64 * 1024) =>
        new(Options.Create(new DownloadOptions { MinResponseDataRate = rate, MinResponseDataRateGracePeriod = TimeSpan.FromSeconds(1) }), time, NullLogger<StallWatchdog>.Instance);

    /// <summary>
    /// Kestrel takes writes, and drops them, once the connection is gone and until it signals the request aborted (a
    /// moment later, on the thread pool; never after the last byte of a Content-Length response): a zip written to
    /// its end in that moment counted as delivered (the flaky mid-zip test). The writer reads each write's result.
    /// </summary>
    [Fact]
    public async Task A_write_after_the_connection_stopped_taking_data_throws_and_counts_nothing()
    {
        var response = new PipeResponse();
        using var watchdog = Watchdog(TimeProvider.System, rate: 0);
        await using var writer = watchdog.Open(response.Context);
        await writer.WriteAsync(new byte[1000]);
        Assert.Equal(1000, writer.Delivered);

        await response.Pipe.Reader.CompleteAsync(); // the client left; the request is not signalled aborted
        Assert.False(response.Context.RequestAborted.IsCancellationRequested);
        await Assert.ThrowsAsync<ClientGoneException>(() => writer.WriteAsync(new byte[1000]).AsTask());
        await Assert.ThrowsAsync<ClientGoneException>(() => writer.FlushAsync());
        Assert.Equal(1000, writer.Delivered);
        // At most what a client cut there can have received: the piece it was seen leaving during too.
        Assert.Equal(2000, writer.Sent);
    }

    [Fact]
    public async Task A_client_that_takes_no_data_past_the_grace_period_and_a_piece_at_the_minimum_rate_is_dropped()
    {
        var time = new FakeTimeProvider();
        var response = new PipeResponse();
        using var watchdog = Watchdog(time);
        await using var writer = watchdog.Open(response.Context);

        // 64 KB fill the pipe: the write waits for the client, which reads nothing.
        var write = writer.WriteAsync(new byte[ResponseWriter.PieceSize]).AsTask();
        Assert.False(write.IsCompleted);
        // 1 s of grace plus 64 KB at 64 KB/s: not yet after 1.5 s...
        time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.Equal(0, response.Aborts);
        // ...dropped after 2.5 s.
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, response.Aborts);
        var gone = await Assert.ThrowsAsync<ClientGoneException>(() => write);
        Assert.Contains("took no data", gone.Message);
        Assert.True(writer.Stalled);
        Assert.Equal(0, writer.Delivered);
        Assert.Equal(ResponseWriter.PieceSize, writer.Sent);
    }

    [Fact]
    public async Task A_client_that_keeps_taking_data_is_not_dropped_however_long_the_response()
    {
        var time = new FakeTimeProvider();
        var response = new PipeResponse();
        using var watchdog = Watchdog(time);
        await using var writer = watchdog.Open(response.Context);
        for (var i = 0; i < 20; i++)
        {
            var write = writer.WriteAsync(new byte[ResponseWriter.PieceSize]).AsTask();
            time.Advance(TimeSpan.FromSeconds(1.5)); // slower than the rate, within the grace
            var read = await response.Pipe.Reader.ReadAsync();
            response.Pipe.Reader.AdvanceTo(read.Buffer.End);
            await write;
        }
        Assert.Equal(0, response.Aborts);
        Assert.Equal(20L * ResponseWriter.PieceSize, writer.Delivered);
    }
}
