using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using Xunit.Abstractions;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Reliability;

/// <summary>
/// The timed races (this one and <see cref="OrderInvariantsRaceTests"/>, on each provider) take turns: each counts on its
/// share of the 2 cores to race enough in its time, and two of them at once halve it. Other tests still run beside them.
/// </summary>
[CollectionDefinition(Name)]
public sealed class RaceCollection
{
    public const string Name = "Timed races";
}

/// <summary>Nearline orders in many small sub-orders, restored quickly, three staging slots per user.</summary>
public class RaceFactory : PortalAppFactory
{
    public RaceFactory() : this(DatabaseProvider.Sqlite)
    {
    }

    protected RaceFactory(DatabaseProvider provider) : base(provider)
    {
        Settings["Storage:NearlineLatencyPerRequest"] = "00:00:00.150";
        Settings["Orders:PollInterval"] = "00:00:00.050";
        Settings["Orders:SubOrderMaxFiles"] = "2";
        Settings["Orders:MaxActiveSubOrdersPerUser"] = "3";
    }

    public sealed class OnPostgreSql() : RaceFactory(DatabaseProvider.PostgreSql);
}

/// <summary>
/// quality.md §3 "Concurrency": pause, resume and delete racing with the engine and with downloads, from the owner
/// and an admin at once, through the real HTTP pipeline. Every answer is a success or a 4xx with a code (never a
/// 500), and once the racing stops every order is consistent: its stored counters match its files, no lease is
/// left, a deleted order stays deleted, and the other one still runs to DONE. On each provider.
/// </summary>
public abstract class ConcurrencyTests(RaceFactory factory, ITestOutputHelper output)
{
    [Collection(RaceCollection.Name)]
    public sealed class OnSqlite(RaceFactory factory, ITestOutputHelper output) : ConcurrencyTests(factory, output), IClassFixture<RaceFactory>;

    [Collection(RaceCollection.Name)]
    public sealed class OnPostgreSql(RaceFactory.OnPostgreSql factory, ITestOutputHelper output) : ConcurrencyTests(factory, output), IClassFixture<RaceFactory.OnPostgreSql>;

    private readonly ConcurrentQueue<string> failures = new();
    private readonly ConcurrentDictionary<HttpStatusCode, int> statuses = new();

    /// <summary>Records the answer; a 5xx, or a 4xx without a ProblemDetails code, is a failure.</summary>
    private async Task<HttpResponseMessage> CheckAsync(string what, HttpResponseMessage response)
    {
        statuses.AddOrUpdate(response.StatusCode, 1, (_, n) => n + 1);
        if ((int)response.StatusCode >= 500)
        {
            failures.Enqueue($"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        else if ((int)response.StatusCode >= 400)
        {
            var body = await response.Content.ReadAsStringAsync();
            try
            {
                using var problem = JsonDocument.Parse(body);
                if (problem.RootElement.Code() is not { Length: > 0 })
                {
                    failures.Enqueue($"{what}: {(int)response.StatusCode} without a code: {body}");
                }
            }
            catch (JsonException)
            {
                failures.Enqueue($"{what}: {(int)response.StatusCode} not a ProblemDetails: {body}");
            }
        }
        return response;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string url, CancellationToken stop = default)
    {
        using var request = new HttpRequestMessage(method, url);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop);
        return await CheckAsync($"{method} {url}", response);
    }

    /// <summary>A zip read to its end (its files become DOWNLOADED), or a 204 when nothing is available.</summary>
    private async Task ZipAsync(HttpClient client, long orderId, CancellationToken stop = default)
    {
        using var response = await SendAsync(client, HttpMethod.Get, $"/api/user/orders/{orderId}/download", stop);
        await response.Content.CopyToAsync(Stream.Null, stop);
    }

    /// <summary>The available files, each read whole through the single-file endpoint.</summary>
    private async Task FilesAsync(HttpClient client, long orderId, CancellationToken stop)
    {
        using var list = await SendAsync(client, HttpMethod.Get, $"/api/orders/{orderId}/files/available?size=20", stop);
        if (list.StatusCode != HttpStatusCode.OK)
        {
            return;
        }
        var page = await list.Content.ReadFromJsonAsync<JsonElement>(stop);
        foreach (var file in page.Elements().Take(4))
        {
            using var bytes = await SendAsync(client, HttpMethod.Get, $"/api/orders/files/{file.GetProperty("id").GetInt64()}", stop);
            await bytes.Content.CopyToAsync(Stream.Null, stop);
        }
    }

    /// <summary>Runs the action in a loop until the time is up; requests cut by the end of the race are not answers.</summary>
    private static Task LoopAsync(Func<CancellationToken, Task> action, CancellationToken stop) => Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await action(stop);
            }
            catch (Exception e) when (stop.IsCancellationRequested && e is OperationCanceledException or IOException or HttpRequestException)
            {
                // The time is up mid-request: the test server reports it as an abort.
            }
        }
    });

    [Fact]
    public async Task Pause_resume_and_delete_racing_with_the_engine_and_downloads_leave_every_order_consistent()
    {
        var user = await factory.CreateClientForAsync(DemoUsers.User);
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        await FillCartAsync(user, new { datasetId = Sentinel });
        var kept = (await CreateOrderAsync(user, "race kept")).Id();
        await FillCartAsync(user, new { datasetId = Sentinel });
        var deleted = (await CreateOrderAsync(user, "race deleted")).Id();
        await WaitForOrderAsync(user, kept, o => o.Status() == "RUNNING");
        await WaitForOrderAsync(user, deleted, o => o.Status() == "RUNNING");

        var deletedAt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (var racing = new CancellationTokenSource(TimeSpan.FromSeconds(8)))
        {
            var stop = racing.Token;
            var random = new Random(7);
            await Task.WhenAll(
                // The owner and an admin pause and resume the same orders while the engine stages them.
                LoopAsync(async ct =>
                {
                    (await SendAsync(user, HttpMethod.Put, $"/api/user/orders/pause/{kept}", ct)).Dispose();
                    await Task.Delay(random.Next(20, 120), ct);
                    (await SendAsync(user, HttpMethod.Put, $"/api/user/orders/resume/{kept}", ct)).Dispose();
                }, stop),
                LoopAsync(async ct =>
                {
                    (await SendAsync(admin, HttpMethod.Put, $"/api/user/orders/pause/{kept}", ct)).Dispose();
                    (await SendAsync(admin, HttpMethod.Put, $"/api/user/orders/resume/{kept}", ct)).Dispose();
                    await Task.Delay(50, ct);
                }, stop),
                // Downloads of both orders all along: zips and single files.
                LoopAsync(ct => ZipAsync(user, kept, ct), stop),
                LoopAsync(ct => FilesAsync(user, kept, ct), stop),
                LoopAsync(ct => ZipAsync(user, deleted, ct), stop),
                LoopAsync(ct => FilesAsync(user, deleted, ct), stop),
                // After a while the second order is cancelled (paused, then deleted) while its downloads go on.
                LoopAsync(async ct =>
                {
                    await Task.Delay(2_500, ct);
                    while (!deletedAt.Task.IsCompleted && !ct.IsCancellationRequested)
                    {
                        (await SendAsync(admin, HttpMethod.Put, $"/api/user/orders/pause/{deleted}", ct)).Dispose();
                        (await SendAsync(user, HttpMethod.Put, $"/api/user/orders/resume/{deleted}", ct)).Dispose();
                        (await SendAsync(admin, HttpMethod.Put, $"/api/user/orders/pause/{deleted}", ct)).Dispose();
                        using var delete = await SendAsync(user, HttpMethod.Delete, $"/api/user/orders/{deleted}", ct);
                        if (delete.StatusCode == HttpStatusCode.OK)
                        {
                            deletedAt.TrySetResult();
                        }
                    }
                    await Task.Delay(Timeout.Infinite, ct);
                }, stop));
        }
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
        Assert.True(deletedAt.Task.IsCompleted, "the second order must have been deleted during the race");
        output.WriteLine("Answers during the race: " + string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{(int)s.Key} × {s.Value}")));
        Assert.True(statuses.Values.Sum() > 100, $"too few requests to race: {string.Join(", ", statuses)}");

        // Quiet again: the kept order resumes (it may have been left paused) and is downloaded to the end.
        // A resume right after a pause may answer 409 ORDER_STILL_STOPPING: the user tries again, as told.
        var order = await GetOrderAsync(user, kept);
        await WaitAsync(async () =>
        {
            if ((await GetOrderAsync(user, kept)).Status() != "PAUSED")
            {
                return true;
            }
            using var resume = await SendAsync(user, HttpMethod.Put, $"/api/user/orders/resume/{kept}");
            return resume.StatusCode == HttpStatusCode.OK;
        }, 20, "the kept order resumed");
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while ((order = await GetOrderAsync(user, kept)).Status() != "DONE")
        {
            Assert.True(DateTime.UtcNow < deadline, $"the kept order did not finish: {order}");
            await ZipAsync(user, kept);
            await Task.Delay(100);
        }
        await ZipAsync(user, kept);
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));

        // No lease left behind by a job that was paused, resumed or deleted mid-way.
        await WaitAsync(async () =>
        {
            await using var db = factory.CreateDbContext();
            return !await db.SubOrders.AnyAsync(s => (s.OrderId == kept || s.OrderId == deleted) && s.LeaseOwner != null);
        }, 20, "leases released");

        await using var check = factory.CreateDbContext();
        var keptRow = await check.Orders.AsNoTracking().SingleAsync(o => o.Id == kept);
        var files = await check.OrderFiles.AsNoTracking().Where(f => f.OrderId == kept).GroupBy(f => f.State).Select(g => new { g.Key, Count = g.Count() }).ToListAsync();
        Assert.Equal(OrderStatus.Done, keptRow.Status);
        Assert.Equal(100, keptRow.PercentCompleted);
        // Every file was downloaded exactly as the counters say: nothing lost, nothing left pending or in error.
        var all = Assert.Single(files);
        Assert.Equal(OrderFileState.Downloaded, all.Key);
        Assert.Equal(keptRow.FilesCount, all.Count);
        Assert.Equal((0, 0, 0), (keptRow.AvailableFilesCount, keptRow.ZippableFilesCount, keptRow.FilesInErrorCount));
        Assert.False(keptRow.WaitingForUser);
        Assert.Equal(0, await check.SubOrders.CountAsync(s => s.OrderId == kept && s.WaitingForUser));

        // The deleted order stayed deleted: no download or late staging brought it back.
        var deletedRow = await check.Orders.AsNoTracking().SingleAsync(o => o.Id == deleted);
        Assert.Equal(OrderStatus.Deleted, deletedRow.Status);
        // Its jobs all ended: a job stopping when the order was deleted did not put itself back in the queue.
        Assert.Equal(0, await check.SubOrders.CountAsync(s => s.OrderId == deleted && s.JobState != SubOrderJobState.Ended));
        Assert.Equal(HttpStatusCode.NotFound, (await user.GetAsync($"/api/user/orders/{deleted}/metalink/download")).StatusCode);
    }
}
