using Xunit.Abstractions;

namespace Regards.Portal.Tests.Reliability;

/// <summary>
/// quality.md §3 "Load": 100 concurrent download clients for 60 s (REGARDS_LOAD_SECONDS to change it) against the
/// real server as a child process on 127.0.0.1 (<see cref="LoadRig"/>): public-token file GETs (whole and ranges, bytes
/// checked against the metalink's SHA-256), metalinks and zips, next to a client flooding a file that is not ready and
/// one that never reads its zip (issue 18). Zero errors for the honest ones, server memory bounded, the flooder answered
/// 429 with Retry-After, the stalled one dropped; the figures are printed (P8 of bench.sh measures the honest clients'
/// throughput with and without the misbehaving ones).
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class LoadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Clients = 100;
    private readonly string dataPath = Path.Combine(Path.GetTempPath(), "regards-tests", Guid.NewGuid().ToString("N"));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(dataPath, recursive: true);
        }
        catch (IOException)
        {
        }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_hundred_download_clients_for_a_minute_get_every_byte_right_with_bounded_server_memory_next_to_a_flooding_and_a_stalled_client()
    {
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("REGARDS_LOAD_SECONDS"), out var s) ? s : 60;
        await using var rig = await LoadRig.StartAsync(dataPath, Clients);
        using var flooder = await rig.PrepareFlooderAsync();
        var stallOrder = await rig.PrepareStallAsync();
        var baseline = rig.Portal.WorkingSet;

        // Next to the honest ones, for the whole run: a client flooding a file that is not ready (another user's, 4
        // connections, Retry-After ignored) and one that opens a zip and never reads it.
        using var misbehaving = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var flood = rig.FloodAsync(flooder, 4, misbehaving.Token);
        var stall = rig.StallAsync(stallOrder, misbehaving.Token);
        var honest = await rig.RunHonestAsync(Clients, TimeSpan.FromSeconds(seconds));
        var flooded = await flood;
        var dropped = await stall;

        output.WriteLine($"Load: {Clients} clients × {honest.Seconds:0} s: {honest.Requests} requests ({honest.RequestsPerSecond:0} req/s), " +
                         $"{honest.MegabytesPerSecond:0.0} MB/s, latency p50 {honest.P50:0.0} ms p99 {honest.P99:0.0} ms, " +
                         $"errors {honest.Errors.Count}, server memory {baseline / 1048576.0:0} MB → peak {honest.PeakWorkingSet / 1048576.0:0} MB");
        output.WriteLine($"Flooder: {flooded.Requests} requests in {flooded.Seconds:0} s ({flooded.Requests / flooded.Seconds:0}/s): " +
                         $"{flooded.Answered202} × 202, {flooded.Answered429} × 429, {flooded.Other} other; stalled zip dropped: {dropped}");
        Assert.True(honest.Errors.Count == 0, string.Join("\n", honest.Errors.Take(10)));
        Assert.True(honest.Requests > Clients, "every client made requests");
        // Bounded: no growth with the number of requests (streams, pooled buffers): well under 256 MB above the idle server.
        Assert.True(honest.PeakWorkingSet - baseline < 256L * 1024 * 1024, $"server memory grew by {(honest.PeakWorkingSet - baseline) / 1048576.0:0} MB");
        // The flooder gets its share of "not ready" answers per window, then 429s with Retry-After, and nothing else.
        Assert.Equal(0, flooded.Other);
        Assert.True(flooded.Answered429 > flooded.Answered202, $"{flooded.Answered202} × 202, {flooded.Answered429} × 429");
        Assert.True(flooded.RetryAfterOnEvery429);
        if (seconds >= 40)
        {
            // Within about 26 s of its buffers filling (Downloads:MinResponseDataRate and its grace period).
            Assert.True(dropped, "the client that never read its zip was not dropped");
        }
    }
}
