using System.Diagnostics;
using System.Globalization;
using System.Net;
using Regards.Portal.Tests.Infrastructure;
using Regards.Portal.Tests.Reliability;

namespace Regards.Portal.Tests.Benchmarks;

/// <summary>
/// The server as deployed (its own Release process, server GC): start-up to /health and its idle working set (P7); the
/// 100-client load of quality.md §3 with and without a flooding and a stalled client, and its working set (P8).
/// </summary>
[Trait("Category", BenchmarkReport.Category)]
[Collection(BenchmarkReport.Category)]
public sealed class ServerBenchmarks
{
    private static string F(double value, string format = "0.0") => value.ToString(format, CultureInfo.InvariantCulture);

    private static void Delete(string dataPath)
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(dataPath, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// A database seeded once (the demo catalog and a dataset of 10 000 objects), then three starts: from the process's
    /// start to the first 200 of /health, and the working set once the server has been idle for 10 s after it.
    /// </summary>
    [Fact]
    public async Task P7_start_up_to_health_and_idle_working_set_on_a_seeded_database()
    {
        var dataPath = Path.Combine(Path.GetTempPath(), "regards-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await PortalProcess.SeedAsync(dataPath, "--objects", "10000", "--file-size", "1024", "--dataset-id", "URN:AIP:DATASET:p7");
            var starts = new List<double>();
            var idle = new List<long>();
            for (var run = 0; run < 3; run++)
            {
                var watch = Stopwatch.StartNew();
                await using var portal = await PortalProcess.StartAsync(dataPath, PortalProcess.AsDeployed(new Dictionary<string, string> { ["Logging:LogLevel:Default"] = "Warning" }));
                using var http = new HttpClient { BaseAddress = portal.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
                while (true)
                {
                    using var response = await http.GetAsync("/health");
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        break;
                    }
                    Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"/health answered {response.StatusCode}");
                    await Task.Delay(10);
                }
                starts.Add(watch.Elapsed.TotalSeconds);
                await Task.Delay(TimeSpan.FromSeconds(10));
                idle.Add(portal.WorkingSet);
            }
            var start = starts.Order().ElementAt(1);
            var workingSet = idle.Order().ElementAt(1);
            BenchmarkReport.Record("P7", "start-up to /health 200, then idle working set", "seeded database (demo + 10 000 objects)",
                $"start-up {F(start, "0.00")} s (runs {string.Join(", ", starts.Select(s => F(s, "0.00")))}); idle working set {F(workingSet / 1048576.0, "0")} MB (runs {string.Join(", ", idle.Select(w => F(w / 1048576.0, "0")))})",
                "3 s / 150 MB targets", Math.Max(start / 3, workingSet / (150.0 * 1048576)), "< 3 s; < 150 MB idle");
        }
        finally
        {
            Delete(dataPath);
        }
    }

    /// <summary>
    /// The 100 honest clients of the load test for 20 s alone, then 20 s next to a client flooding a file that is not ready
    /// (4 connections, Retry-After ignored) and one that opened a zip and never reads it: the honest clients' throughput
    /// with them ÷ without (the reference), their errors, the server's working set.
    /// </summary>
    [Fact]
    public async Task P8_a_hundred_honest_clients_next_to_a_flooding_and_a_stalled_client()
    {
        const int clients = 100;
        var seconds = TimeSpan.FromSeconds(20);
        var dataPath = Path.Combine(Path.GetTempPath(), "regards-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await using var rig = await LoadRig.StartAsync(dataPath, clients);
            using var flooder = await rig.PrepareFlooderAsync();
            var stallOrder = await rig.PrepareStallAsync();
            await Task.Delay(TimeSpan.FromSeconds(5));
            var idle = rig.Portal.WorkingSet;
            await rig.RunHonestAsync(clients, TimeSpan.FromSeconds(5)); // warm-up (the JIT's tiering)
            var alone = await rig.RunHonestAsync(clients, seconds);

            using var misbehaving = new CancellationTokenSource(seconds);
            var flood = rig.FloodAsync(flooder, 4, misbehaving.Token);
            var stall = rig.StallAsync(stallOrder, misbehaving.Token);
            var together = await rig.RunHonestAsync(clients, seconds);
            var flooded = await flood;
            var dropped = await stall;

            Assert.True(alone.Errors.Count == 0, string.Join("\n", alone.Errors.Take(10)));
            Assert.True(together.Errors.Count == 0, string.Join("\n", together.Errors.Take(10)));
            var peak = Math.Max(alone.PeakWorkingSet, together.PeakWorkingSet);
            BenchmarkReport.Record("P8", "100 honest download clients next to a flooding and a stalled client", "files, ranges, metalinks, zips",
                $"honest {F(together.RequestsPerSecond, "0")} req/s, {F(together.MegabytesPerSecond)} MB/s, p99 {F(together.P99, "0")} ms, {together.Errors.Count} errors; " +
                $"flooder {F(flooded.Requests / flooded.Seconds, "0")} req/s answered {flooded.Answered429} × 429, {flooded.Answered202} × 202, {flooded.Other} other; " +
                $"stalled zip dropped within the 20 s: {(dropped ? "yes" : "no (the watchdog's grace period plus 64 KB at its minimum rate is about 26 s)")}; " +
                $"working set idle {F(idle / 1048576.0, "0")} MB, peak under load {F(peak / 1048576.0, "0")} MB",
                $"honest alone {F(alone.RequestsPerSecond, "0")} req/s, {F(alone.MegabytesPerSecond)} MB/s, p99 {F(alone.P99, "0")} ms",
                together.RequestsPerSecond / alone.RequestsPerSecond, "≈ 1, 0 errors; < 400 MB under load");
        }
        finally
        {
            Delete(dataPath);
        }
    }
}
