using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Regards.Portal.Catalog;
using Regards.Portal.Data;
using Regards.Portal.Identity;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using Xunit.Abstractions;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Reliability;

/// <summary>
/// A randomized race on the real app and a real database (a SQLite file, a PostgreSQL database). Several users order their carts from several clients at
/// once, pause, resume, cancel, retry and download (zips, whole files, ranges, cut streams, public links), under a
/// download quota for one of them, while the engine stages (nearline included), an admin moves expiration dates close
/// and the sweeper expires orders at random moments. Afterwards every order is checked in the database: final orders
/// wait for no one, stored counters match the files, one cart gives one order, the quota held, no public link served
/// a file after its order's expiration date, and nothing answered 500.
/// <para>The seed is printed and in every failure message; <c>REGARDS_RACE_SEED=n</c> replays the same random
/// choices (thread interleavings still vary), <c>REGARDS_RACE_SECONDS</c> sets the racing time (default 15; up to twice
/// that on a loaded machine, until every check has had something to check).</para>
/// </summary>
public abstract class OrderInvariantsRaceTests : IDisposable
{
    [Collection(RaceCollection.Name)]
    public sealed class OnSqlite(ITestOutputHelper output) : OrderInvariantsRaceTests(DatabaseProvider.Sqlite, output);

    [Collection(RaceCollection.Name)]
    public sealed class OnPostgreSql(ITestOutputHelper output) : OrderInvariantsRaceTests(DatabaseProvider.PostgreSql, output);

    private const string SeedVariable = "REGARDS_RACE_SEED";
    private const string SecondsVariable = "REGARDS_RACE_SECONDS";
    private const string QuotaUser = DemoUsers.User;
    private const string Racer = "racer@regards.local";
    private const string RacerPassword = "Regards!Racer1";
    private const int ClientsPerUser = 3;

    private static readonly string[] Users = [DemoUsers.User, DemoUsers.Guest, Racer];

    /// <summary>What a cart holds: a whole dataset or a part of it, online (SWOT) or nearline (Sentinel-3).</summary>
    private static readonly (string DatasetId, string? Q)[] Selections =
    [
        (Swot, null), (Swot, "SSH_001_00"), (Swot, "SSH_001_01"),
        (Sentinel, null), (Sentinel, "_0000"), (Sentinel, "_0001"),
    ];

    private readonly ITestOutputHelper output;
    private readonly int seed;
    private readonly Random master;
    private readonly TimeSpan raceTime;
    private readonly PortalAppFactory factory;
    private readonly ErrorLog errorLog = new();

    // Clients: three per user, two for the admin (actions, expiration dates) and an anonymous one for the public links.
    private readonly Dictionary<string, HttpClient[]> clients = [];
    private HttpClient admin = null!;
    private HttpClient expiryAdmin = null!;
    private HttpClient anonymous = null!;
    private TimeProvider clock = null!;

    // What the clients saw.
    private readonly ConcurrentQueue<string> failures = new();
    private readonly ConcurrentDictionary<string, int> answers = new();
    private readonly ConcurrentDictionary<long, string> owners = new();
    private readonly ConcurrentDictionary<string, List<long>> ordersOf = new();
    private readonly ConcurrentDictionary<long, bool> closed = new();
    private readonly ConcurrentDictionary<long, int> availableHint = new();
    private readonly ConcurrentQueue<CartRound> rounds = new();
    private readonly ConcurrentDictionary<long, Links> links = new();
    private readonly ConcurrentDictionary<long, DateTime> victims = new();
    private readonly ConcurrentBag<Task> victimProbes = [];
    private readonly ConcurrentQueue<string> linkViolations = new();
    /// <summary>The quota user's MaxDownloads: raised during the race each time it was used up (never lowered).</summary>
    private int quotaMax;
    private int probesAfterExpiry;
    private int victimsProbed;
    private int victimsTried;
    private int quotaCompleted;
    private int quotaRefusals;
    private int aborted;

    private sealed record CartRound(string Owner, long BasketId, IReadOnlyList<Created> Results);

    private sealed record Created(int Status, string? Code, long? OrderId);

    /// <summary>An order's public links: its files' URLs and its metalink's, all with one token.</summary>
    private sealed record Links(IReadOnlyList<string> Files, string Metalink);

    private enum Fetch { Whole, Head, FirstBytes, FromOffset, Suffix, Cut }

    protected OrderInvariantsRaceTests(DatabaseProvider provider, ITestOutputHelper output)
    {
        factory = PortalAppFactory.For(provider);
        this.output = output;
        seed = int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next();
        raceTime = TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable(SecondsVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var t) ? t : 15);
        master = new Random(seed);
        output.WriteLine($"Seed {seed} (replay: {SeedVariable}={seed}), racing {raceTime.TotalSeconds:0} s");

        quotaMax = master.Next(4, 10);
        var settings = factory.Settings;
        settings["Storage:NearlineLatencyPerRequest"] = $"00:00:00.{master.Next(80, 300):000}";
        settings["Storage:NearlineLatencyPerGigabyte"] = "00:00:00";
        settings["Storage:NearlineFailureRate"] = (master.Next(10, 30) / 100.0).ToString(CultureInfo.InvariantCulture);
        settings["Orders:PollInterval"] = "00:00:00.050";
        settings["Orders:SubOrderMaxFiles"] = master.Next(3, 7).ToString(CultureInfo.InvariantCulture);
        settings["Orders:MaxActiveSubOrdersPerUser"] = "4";
        // The sweeper of the host runs once at start; the race sweeps at random moments itself (see SweepAsync), so
        // public links are tried both before and after the sweep of an order whose date has passed.
        settings["Orders:ExpiryCheckInterval"] = "1.00:00:00";
        // Public lookups remembered as long as the app allows: the expiration date must still be checked on every read.
        settings["Downloads:FileLookupLifetime"] = "00:01:00";
        factory.ConfigureTestServices = services => services.AddSingleton<ILoggerProvider>(errorLog);
        output.WriteLine("Settings: " + string.Join(", ", settings.Select(kv => $"{kv.Key}={kv.Value}")) + $", MaxDownloads of {QuotaUser}={quotaMax}");
    }

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task Racing_users_engine_admin_and_sweeper_leave_every_order_consistent()
    {
        var watch = Stopwatch.StartNew();
        clock = factory.Services.GetRequiredService<TimeProvider>();
        output.WriteLine($"Host started in {watch.Elapsed.TotalSeconds:0.0} s");
        await ArrangeAsync();
        output.WriteLine($"Arranged in {watch.Elapsed.TotalSeconds:0.0} s");

        var raceStart = watch.Elapsed;
        using (var race = new CancellationTokenSource())
        {
            var stop = race.Token;
            var loops = new List<Task>();
            foreach (var user in Users)
            {
                var ordering = Derive();
                var round = 0;
                loops.Add(LoopAsync($"ordering {user}", ct => OrderCartAsync(user, ordering, ++round, ct), stop));
                for (var i = 0; i < 2; i++)
                {
                    var worker = Derive();
                    loops.Add(LoopAsync($"worker {user}", ct => ActAsync(user, worker, ct), stop));
                }
            }
            var adminRandom = Derive();
            loops.Add(LoopAsync("admin", ct => AdminActAsync(adminRandom, ct), stop));
            var expiryRandom = Derive();
            loops.Add(LoopAsync("expiration", ct => MoveExpirationAsync(expiryRandom, ct), stop));
            var sweepRandom = Derive();
            loops.Add(LoopAsync("sweeper", ct => SweepAsync(sweepRandom, ct), stop));
            for (var i = 0; i < 2; i++)
            {
                var burstRandom = Derive();
                loops.Add(LoopAsync("quota bursts", ct => QuotaBurstAsync(burstRandom, ct), stop));
            }
            var raiseRandom = Derive();
            loops.Add(LoopAsync("quota raises", ct => RaiseQuotaAsync(raiseRandom, ct), stop));

            // The racing time, longer on a loaded machine until the race has done what the checks need (at most twice).
            while (watch.Elapsed - raceStart < raceTime || (!Enough() && watch.Elapsed - raceStart < 2 * raceTime))
            {
                await Task.Delay(200);
            }
            await race.CancelAsync();
            await Task.WhenAll(loops);
        }
        await Task.WhenAll(victimProbes);
        output.WriteLine($"Raced {(watch.Elapsed - raceStart).TotalSeconds:0.0} s");

        // Every order whose date has passed refuses its public links, before and after a sweep.
        await ProbeExpiredOrdersAsync("before the last sweep");
        await factory.Services.GetRequiredService<OrderSweeper>().ExpireAsync(CancellationToken.None);
        await ProbeExpiredOrdersAsync("after the last sweep");

        var problems = new List<string>();
        await SettleAsync(problems);
        await CheckDatabaseAsync(problems);
        CheckClients(problems);

        foreach (var error in errorLog.Errors.Except(errorLog.RequestErrors).Take(10))
        {
            output.WriteLine("Logged by a background job: " + error);
        }
        output.WriteLine($"Answers: {string.Join(", ", answers.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key} × {a.Value}"))}");
        output.WriteLine($"Carts ordered {rounds.Count} times by {rounds.Sum(r => r.Results.Count)} parallel creates; {owners.Count} orders seen; " +
            $"{victimsProbed} of {victimsTried} orders chosen moved to expire and probed {probesAfterExpiry} times after their date; quota user: {quotaCompleted} complete raw downloads received, " +
            $"{quotaRefusals} quota refusals; {aborted} answers cut by the server (order deleted or expired mid-stream); total {watch.Elapsed.TotalSeconds:0.0} s");
        Assert.True(problems.Count == 0, $"Seed {seed} (replay: {SeedVariable}={seed}): {problems.Count} invariant violations:\n" + string.Join("\n", problems.Take(25)));
    }

    private Random Derive() => new(master.Next());

    /// <summary>Enough happened for every check to have something to check (the same conditions fail the test at the end).</summary>
    private bool Enough() =>
        Volatile.Read(ref victimsProbed) >= 3 && Volatile.Read(ref quotaRefusals) > 0 && answers.Values.Sum() >= 500
        && rounds.Any(r => r.Results.Count(x => x.Status == 201) == 1 && r.Results.Any(x => x.Status is 409 or 204));

    // ---- arrange ---------------------------------------------------------------------------------------------

    private async Task ArrangeAsync()
    {
        using (var scope = factory.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var racer = new ApplicationUser { UserName = Racer, Email = Racer, EmailConfirmed = true };
            var created = await users.CreateAsync(racer, RacerPassword);
            Assert.True(created.Succeeded, string.Join(" ", created.Errors.Select(e => e.Description)));
            Assert.True((await users.AddToRoleAsync(racer, PortalRoles.RegisteredUser)).Succeeded);
        }
        foreach (var user in Users)
        {
            // One sign-in per user (hashing passwords is the dear part of a test host), several clients each.
            var token = await PortalAppFactory.LoginAsync(NewClient(), user, user == Racer ? RacerPassword : PortalAppFactory.DemoPassword(user));
            clients[user] = Enumerable.Range(0, ClientsPerUser).Select(_ => SignedIn(token)).ToArray();
            ordersOf[user] = [];
        }
        var adminToken = await PortalAppFactory.LoginAsync(NewClient(), DemoUsers.Admin, PortalAppFactory.DemoPassword(DemoUsers.Admin));
        admin = SignedIn(adminToken);
        expiryAdmin = SignedIn(adminToken);
        anonymous = NewClient();
        using var quota = await admin.PutAsJsonAsync($"/api/orders/quotas/{QuotaUser}", new { maxDownloads = quotaMax, maxConcurrentDownloads = -1, resetCount = true });
        Assert.Equal(HttpStatusCode.OK, quota.StatusCode);
    }

    /// <summary>A client of the real pipeline that does not follow redirects (external files answer 302 to another host).</summary>
    private HttpClient NewClient() => factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    private HttpClient SignedIn(string token)
    {
        var client = NewClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    // ---- the clients ------------------------------------------------------------------------------------------

    /// <summary>Runs the action until the time is up. A request cut by the end of the race is no answer; a response
    /// the server cuts (its order deleted or expired mid-stream) is counted; anything else thrown is a failure.</summary>
    private Task LoopAsync(string name, Func<CancellationToken, Task> action, CancellationToken stop) => Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await action(stop);
            }
            catch (Exception e) when (stop.IsCancellationRequested && e is OperationCanceledException or IOException or HttpRequestException)
            {
                // The time is up mid-request.
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                Interlocked.Increment(ref aborted);
            }
            catch (Exception e)
            {
                failures.Enqueue($"{name}: {e}");
            }
        }
    });

    /// <summary>Sends, records the answer; a 5xx, or a 4xx without a ProblemDetails code, is a failure. The code of a 4xx is returned.</summary>
    private async Task<(HttpResponseMessage Response, string? Code)> SendAsync(HttpClient client, HttpMethod method, string url, string what, CancellationToken ct,
        object? json = null, RangeHeaderValue? range = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (json is not null)
        {
            request.Content = JsonContent.Create(json, options: PortalAppFactory.Json);
        }
        request.Headers.Range = range;
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        var status = (int)response.StatusCode;
        answers.AddOrUpdate($"{what} {status}", 1, (_, n) => n + 1);
        string? code = null;
        if (status >= 500 && response.StatusCode != HttpStatusCode.ServiceUnavailable)
        {
            failures.Enqueue($"{method} {url}: {status} {await response.Content.ReadAsStringAsync(ct)}");
        }
        else if (status >= 400 && method != HttpMethod.Head)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            try
            {
                using var problem = JsonDocument.Parse(body);
                code = problem.RootElement.Code();
            }
            catch (JsonException)
            {
            }
            if (code is not { Length: > 0 })
            {
                failures.Enqueue($"{method} {url}: {status} without a ProblemDetails code: {body}");
            }
        }
        return (response, code);
    }

    private async Task<HttpStatusCode> SendAndForgetAsync(HttpClient client, HttpMethod method, string url, string what, CancellationToken ct, object? json = null)
    {
        var (response, _) = await SendAsync(client, method, url, what, ct, json);
        using (response)
        {
            return response.StatusCode;
        }
    }

    private void Track(string owner, long orderId)
    {
        owners[orderId] = owner;
        var list = ordersOf[owner];
        lock (list)
        {
            list.Add(orderId);
        }
    }

    /// <summary>
    /// One of the user's orders (any user's for null): mostly one still live and, to download, mostly one the clients
    /// last saw with available files (as a user picks in "My orders"); null before the first.
    /// </summary>
    private long? Pick(string? user, Random random, bool toDownload = false)
    {
        var candidates = user is null ? owners.Keys.ToList() : Snapshot(ordersOf[user]);
        if (candidates.Count == 0)
        {
            return null;
        }
        var live = candidates.Where(id => !closed.ContainsKey(id)).ToList();
        var withFiles = live.Where(id => availableHint.GetValueOrDefault(id) > 0).ToList();
        var from = toDownload && withFiles.Count > 0 && random.Next(100) < 80 ? withFiles
            : live.Count > 0 && random.Next(100) < 85 ? live
            : candidates;
        return from[random.Next(from.Count)];
    }

    /// <summary>What "My orders" shows: remembered to pick orders with files to download.</summary>
    private async Task ListOrdersAsync(string user, HttpClient client, CancellationToken ct)
    {
        var known = Snapshot(ordersOf[user]);
        var (response, _) = await SendAsync(client, HttpMethod.Get, "/api/user/orders?size=100", "GET my orders", ct);
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var listed = (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).Elements();
                foreach (var order in listed)
                {
                    availableHint[order.Id()] = order.GetProperty("availableFilesCount").GetInt32();
                    if (order.Status() is "EXPIRED" or "FAILED")
                    {
                        closed[order.Id()] = true;
                    }
                }
                // Deleted orders are not listed.
                foreach (var gone in known.Except(listed.Select(o => o.Id())))
                {
                    closed[gone] = true;
                }
            }
        }
    }

    private static List<long> Snapshot(List<long> list)
    {
        lock (list)
        {
            return [.. list];
        }
    }

    /// <summary>A new cart, ordered by several of the user's clients at the same moment: one order at most.</summary>
    private async Task OrderCartAsync(string user, Random random, int round, CancellationToken ct)
    {
        var mine = clients[user];
        var client = mine[random.Next(mine.Length)];
        await SendAndForgetAsync(client, HttpMethod.Delete, "/api/order/basket", "DELETE basket", ct);
        var (datasetId, q) = Selections[random.Next(Selections.Length)];
        var (fill, _) = await SendAsync(client, HttpMethod.Post, "/api/order/basket/selection", "POST basket selection", ct, new { datasetId, q });
        JsonElement basket;
        using (fill)
        {
            if (fill.StatusCode != HttpStatusCode.OK)
            {
                return;
            }
            basket = (await fill.Content.ReadFromJsonAsync<JsonElement>(ct)).Content();
        }
        if (user == QuotaUser)
        {
            // Raw data only: every complete file download of this user counts against the quota.
            foreach (var selection in basket.GetProperty("datasetSelections").EnumerateArray())
            {
                var status = await SendAndForgetAsync(client, HttpMethod.Put, $"/api/order/basket/dataset/{selection.GetProperty("id").GetInt64()}/updateFileFilters",
                    "PUT file filters", ct, new { fileTypes = new[] { "RAWDATA" } });
                Assert.Equal(HttpStatusCode.OK, status);
            }
        }
        var parallel = random.Next(2, 6);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var creates = Enumerable.Range(0, parallel).Select(i => Task.Run(async () =>
        {
            await gate.Task;
            var (response, code) = await SendAsync(mine[i % mine.Length], HttpMethod.Post, "/api/user/orders", "POST order", ct, new { label = $"race {round}.{i}" });
            using (response)
            {
                long? id = response.StatusCode == HttpStatusCode.Created ? (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).Content().Id() : null;
                return new Created((int)response.StatusCode, code, id);
            }
        }, ct)).ToList();
        gate.SetResult();
        var results = await Task.WhenAll(creates);
        rounds.Enqueue(new CartRound(user, basket.GetProperty("id").GetInt64(), results));
        foreach (var created in results.Where(r => r.OrderId is not null))
        {
            Track(user, created.OrderId!.Value);
        }
        await Task.Delay(random.Next(400, 1200), ct);
    }

    /// <summary>The owner at work on one of their orders: status, pause, resume, cancel, retry, downloads of every kind.</summary>
    private async Task ActAsync(string user, Random random, CancellationToken ct)
    {
        var mine = clients[user];
        var client = mine[random.Next(mine.Length)];
        var dice = random.Next(100);
        if (Pick(user, random, toDownload: dice >= 43) is not { } orderId)
        {
            await Task.Delay(50, ct);
            return;
        }
        switch (dice)
        {
            case < 8:
                await ListOrdersAsync(user, client, ct);
                break;
            case < 18:
                await SendAndForgetAsync(client, HttpMethod.Put, $"/api/user/orders/pause/{orderId}", "PUT pause", ct);
                break;
            case < 28:
                await SendAndForgetAsync(client, HttpMethod.Put, $"/api/user/orders/resume/{orderId}", "PUT resume", ct);
                break;
            case < 31:
                await DeleteAsync(client, orderId, ct);
                break;
            case < 33:
                // "Cancel" as the pages do it: pause, let the jobs stop, delete.
                await SendAndForgetAsync(client, HttpMethod.Put, $"/api/user/orders/pause/{orderId}", "PUT pause", ct);
                await Task.Delay(random.Next(50, 300), ct);
                await DeleteAsync(client, orderId, ct);
                break;
            case < 43:
                await SendAndForgetAsync(client, HttpMethod.Put, $"/api/user/orders/{orderId}/retry", "PUT retry", ct);
                break;
            // Not the quota user: a zip reads the quota left when it starts and counts its raw files when it ends, so two
            // zips at once (or a zip and single files) deliver more than MaxDownloads (two parallel zips under a quota
            // of 3 sent 3 + 3 raw files, stored count 6). A gap of the product, reported, left out of this race.
            case < 57 when user != QuotaUser:
                await ZipAsync(client, orderId, cut: random.Next(6) == 0, ct);
                break;
            case < 80:
                await FilesAsync(client, orderId, random, ct);
                break;
            default:
                await PublicFilesAsync(client, orderId, random, ct);
                break;
        }
        await Task.Delay(random.Next(0, 60), ct);
    }

    private async Task DeleteAsync(HttpClient client, long orderId, CancellationToken ct)
    {
        if (await SendAndForgetAsync(client, HttpMethod.Delete, $"/api/user/orders/{orderId}", "DELETE order", ct) == HttpStatusCode.OK)
        {
            closed[orderId] = true;
        }
    }

    /// <summary>The quota user's download manager: many files of a few orders at once.</summary>
    private async Task QuotaBurstAsync(Random random, CancellationToken ct)
    {
        var client = clients[QuotaUser][random.Next(ClientsPerUser)];
        var files = new List<(long OrderId, long FileId)>();
        foreach (var orderId in Enumerable.Range(0, 3).Select(_ => Pick(QuotaUser, random, toDownload: true)).OfType<long>().Distinct())
        {
            var (list, _) = await SendAsync(client, HttpMethod.Get, $"/api/orders/{orderId}/files/available?size=50", "GET available files", ct);
            using (list)
            {
                if (list.StatusCode == HttpStatusCode.OK)
                {
                    var ids = (await list.Content.ReadFromJsonAsync<JsonElement>(ct)).Elements().Select(f => f.GetProperty("id").GetInt64()).ToList();
                    availableHint[orderId] = ids.Count;
                    files.AddRange(ids.Select(id => (orderId, id)));
                }
            }
        }
        if (files.Count == 0)
        {
            await Task.Delay(50, ct);
            return;
        }
        var burst = files.OrderBy(_ => random.Next()).Take(random.Next(4, 13)).ToList();
        await Task.WhenAll(burst.Select(f => FileAsync(client, f.OrderId, $"/api/orders/files/{f.FileId}", Fetch.Whole, ct)));
        await Task.Delay(random.Next(50, 250), ct);
    }

    /// <summary>The admin raises the quota user's MaxDownloads once it is used up: the quota is crossed again and again.</summary>
    private async Task RaiseQuotaAsync(Random random, CancellationToken ct)
    {
        var refusals = Volatile.Read(ref quotaRefusals);
        await Task.Delay(random.Next(500, 1500), ct);
        if (Volatile.Read(ref quotaRefusals) == refusals)
        {
            return;
        }
        var raised = quotaMax + random.Next(1, 4);
        // Not cut by the end of the race: the last MaxDownloads set is the one the check uses.
        if (await SendAndForgetAsync(admin, HttpMethod.Put, $"/api/orders/quotas/{QuotaUser}", "PUT quota", CancellationToken.None,
                new { maxDownloads = raised, maxConcurrentDownloads = -1, resetCount = false }) == HttpStatusCode.OK)
        {
            quotaMax = raised;
        }
    }

    /// <summary>An admin among the users: pauses and resumes anyone's orders, downloads their files (on their quota).</summary>
    private async Task AdminActAsync(Random random, CancellationToken ct)
    {
        var dice = random.Next(100);
        if (Pick(null, random, toDownload: dice >= 60) is not { } orderId)
        {
            await Task.Delay(50, ct);
            return;
        }
        switch (dice)
        {
            case < 25:
                await SendAndForgetAsync(admin, HttpMethod.Put, $"/api/user/orders/pause/{orderId}", "PUT pause (admin)", ct);
                break;
            case < 50:
                await SendAndForgetAsync(admin, HttpMethod.Put, $"/api/user/orders/resume/{orderId}", "PUT resume (admin)", ct);
                break;
            case < 60:
                await SendAndForgetAsync(admin, HttpMethod.Put, $"/api/user/orders/{orderId}/retry", "PUT retry (admin)", ct);
                break;
            case < 80:
                await FilesAsync(admin, orderId, random, ct);
                break;
            default:
                if (owners.GetValueOrDefault(orderId) != QuotaUser)
                {
                    await ZipAsync(admin, orderId, cut: false, ct);
                }
                break;
        }
        await Task.Delay(random.Next(20, 120), ct);
    }

    /// <summary>
    /// The admin's expiration changes, one at a time: now and then a date pushed later, mostly a date moved close (a
    /// moment ahead, the API refuses the past) on an order whose public links are then tried around that moment.
    /// </summary>
    private async Task MoveExpirationAsync(Random random, CancellationToken ct)
    {
        // What the admin page shows: live orders, most with files to download.
        var (search, _) = await SendAsync(expiryAdmin, HttpMethod.Post, "/api/orders/search?size=500", "POST orders search", ct, new { });
        List<JsonElement> live;
        using (search)
        {
            live = search.StatusCode != HttpStatusCode.OK ? []
                : (await search.Content.ReadFromJsonAsync<JsonElement>(ct)).Elements()
                    .Where(o => o.Status() is "RUNNING" or "PAUSED" or "DONE" or "DONE_WITH_WARNING" && !victims.ContainsKey(o.Id())).ToList();
        }
        var withFiles = live.Where(o => o.GetProperty("availableFilesCount").GetInt32() > 0).ToList();
        var from = withFiles.Count > 0 && random.Next(100) < 80 ? withFiles : live;
        if (from.Count == 0)
        {
            await Task.Delay(100, ct);
            return;
        }
        var orderId = from[random.Next(from.Count)].Id();
        if (random.Next(100) < 20)
        {
            var later = clock.GetUtcNow().UtcDateTime.AddDays(random.Next(2, 6));
            await SendAndForgetAsync(expiryAdmin, HttpMethod.Put, $"/api/orders/{orderId}/expiration", "PUT expiration later", ct, new { expirationDate = later });
        }
        else
        {
            victims[orderId] = DateTime.MaxValue;
            Interlocked.Increment(ref victimsTried);
            var probeRandom = new Random(random.Next());
            victimProbes.Add(Task.Run(() => ExpireAndProbeAsync(orderId, probeRandom)));
        }
        await Task.Delay(random.Next(300, 1000), ct);
    }

    /// <summary>
    /// Public links of the order taken while it is live (their token carries its current, later expiry), used until a
    /// moment before the new date (so lookups are remembered), then tried again once the date has passed: every one
    /// must be refused, whether or not the sweep has run.
    /// </summary>
    private async Task ExpireAndProbeAsync(long orderId, Random random)
    {
        try
        {
            if (await LinksAsync(expiryAdmin, orderId, CancellationToken.None) is not { } known)
            {
                return;
            }
            var probes = known.Files.OrderBy(_ => random.Next()).Take(8).ToList();
            await WarmAsync(probes, known.Metalink);
            var at = clock.GetUtcNow().UtcDateTime.AddMilliseconds(random.Next(500, 1500));
            if (await SendAndForgetAsync(expiryAdmin, HttpMethod.Put, $"/api/orders/{orderId}/expiration", "PUT expiration earlier", CancellationToken.None,
                    new { expirationDate = at }) != HttpStatusCode.OK)
            {
                return; // final meanwhile (409)
            }
            victims[orderId] = at;
            while (clock.GetUtcNow().UtcDateTime < at.AddMilliseconds(-40))
            {
                await WarmAsync(probes, known.Metalink);
                await Task.Delay(20);
            }
            while (clock.GetUtcNow().UtcDateTime <= at)
            {
                await Task.Delay(2);
            }
            Interlocked.Increment(ref victimsProbed);
            for (var round = 0; round < 3; round++)
            {
                await Task.WhenAll(probes.Append(known.Metalink).Select(url => ProbeExpiredAsync(orderId, at, url, "during the race")));
                await Task.Delay(random.Next(50, 300));
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            Interlocked.Increment(ref aborted);
        }
        catch (Exception e)
        {
            failures.Enqueue($"expiry probe of order {orderId}: {e}");
        }
    }

    /// <summary>The links used as a client would: HEADs of the files (no state change, so nothing evicts the lookups) and the metalink.</summary>
    private async Task WarmAsync(IReadOnlyList<string> files, string metalink)
    {
        var requests = files.Select(url => SendAndForgetAsync(anonymous, HttpMethod.Head, url, "HEAD public file", CancellationToken.None))
            .Append(SendAndForgetAsync(anonymous, HttpMethod.Get, metalink, "GET public metalink", CancellationToken.None));
        await Task.WhenAll(requests);
    }

    /// <summary>A public link of an order whose expiration date has passed: refused (401 or 404), never bytes, 202 or anything else.</summary>
    private async Task ProbeExpiredAsync(long orderId, DateTime expiredAt, string url, string when)
    {
        var sentAt = clock.GetUtcNow().UtcDateTime;
        var (response, code) = await SendAsync(anonymous, HttpMethod.Get, url, "GET public link after expiry", CancellationToken.None);
        using (response)
        {
            Interlocked.Increment(ref probesAfterExpiry);
            if (sentAt > expiredAt && response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.NotFound))
            {
                linkViolations.Enqueue($"order {orderId} expired at {expiredAt:O}; GET {Shorten(url)} sent at {sentAt:O} ({when}) answered {(int)response.StatusCode} {code}");
            }
        }
    }

    private static string Shorten(string url) => url.Length > 90 ? url[..90] + "…" : url;

    /// <summary>
    /// The sweeper at random moments (the host's own runs once a day here). A sweep is not cut by the end of the race:
    /// only a shutdown cuts the host's, and an expiry cut between its steps is left half done (status EXPIRED, files
    /// and waiting sub-orders kept) with no later sweep to finish it.
    /// </summary>
    private async Task SweepAsync(Random random, CancellationToken ct)
    {
        await Task.Delay(random.Next(200, 2500), ct);
        await factory.Services.GetRequiredService<OrderSweeper>().ExpireAsync(CancellationToken.None);
    }

    // ---- downloads --------------------------------------------------------------------------------------------

    private async Task ZipAsync(HttpClient client, long orderId, bool cut, CancellationToken ct)
    {
        var (response, _) = await SendAsync(client, HttpMethod.Get, $"/api/user/orders/{orderId}/download", "GET zip", ct);
        using (response)
        {
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return;
            }
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            if (cut)
            {
                _ = await body.ReadAsync(new byte[4096], ct);
                return; // the client leaves: nothing may change
            }
            using var zip = new MemoryStream();
            await body.CopyToAsync(zip, ct);
            zip.Position = 0;
            using var archive = new ZipArchive(zip, ZipArchiveMode.Read);
            Assert.NotEqual(QuotaUser, owners.GetValueOrDefault(orderId));
        }
    }

    /// <summary>Some AVAILABLE files of the order through the session endpoint, at once, each fetched in its own way.</summary>
    private async Task FilesAsync(HttpClient client, long orderId, Random random, CancellationToken ct)
    {
        var (list, _) = await SendAsync(client, HttpMethod.Get, $"/api/orders/{orderId}/files/available?size=50", "GET available files", ct);
        List<long> ids;
        using (list)
        {
            if (list.StatusCode != HttpStatusCode.OK)
            {
                return;
            }
            ids = (await list.Content.ReadFromJsonAsync<JsonElement>(ct)).Elements().Select(f => f.GetProperty("id").GetInt64()).ToList();
        }
        var chosen = ids.OrderBy(_ => random.Next()).Take(random.Next(1, 8)).Select(id => (Url: $"/api/orders/files/{id}", How: RandomFetch(random))).ToList();
        await Task.WhenAll(chosen.Select(f => FileAsync(client, orderId, f.Url, f.How, ct)));
    }

    /// <summary>Some of the order's public links (from its metalink), fetched anonymously at once.</summary>
    private async Task PublicFilesAsync(HttpClient client, long orderId, Random random, CancellationToken ct)
    {
        var known = links.GetValueOrDefault(orderId) ?? await LinksAsync(client, orderId, ct);
        if (known is null)
        {
            return;
        }
        if (random.Next(5) == 0)
        {
            await SendAndForgetAsync(anonymous, HttpMethod.Get, known.Metalink, "GET public metalink", ct);
        }
        var chosen = known.Files.OrderBy(_ => random.Next()).Take(random.Next(1, 6)).Select(url => (Url: url, How: RandomFetch(random))).ToList();
        await Task.WhenAll(chosen.Select(f => FileAsync(anonymous, orderId, f.Url, f.How, ct)));
    }

    private static Fetch RandomFetch(Random random) => random.Next(100) switch
    {
        < 55 => Fetch.Whole,
        < 63 => Fetch.Head,
        < 71 => Fetch.FirstBytes,
        < 81 => Fetch.FromOffset,
        < 88 => Fetch.Suffix,
        _ => Fetch.Cut,
    };

    /// <summary>
    /// One file fetched whole, by range or cut short. A response of the whole file read to its end is a complete
    /// download; for the quota user's files the clients count those themselves.
    /// </summary>
    private async Task FileAsync(HttpClient client, long orderId, string url, Fetch how, CancellationToken ct)
    {
        var range = how switch
        {
            Fetch.FirstBytes => new RangeHeaderValue(0, 1023),
            Fetch.FromOffset => new RangeHeaderValue(1024, null),
            Fetch.Suffix => new RangeHeaderValue(null, 700),
            _ => null,
        };
        var method = how == Fetch.Head ? HttpMethod.Head : HttpMethod.Get;
        var (response, code) = await SendAsync(client, method, url, url.Contains("/public/", StringComparison.Ordinal) ? $"{method} public file" : $"{method} file", ct, range: range);
        using (response)
        {
            if (code == "DOWNLOAD_QUOTA_EXCEEDED")
            {
                Interlocked.Increment(ref quotaRefusals);
            }
            if (method == HttpMethod.Head || response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.PartialContent))
            {
                return;
            }
            var length = response.Content.Headers.ContentLength;
            // The whole file in this one response: a complete download, which the portal counts. Ranges that complete a
            // file together count too, on the server (it records what reached whom), so it counts at least these.
            var whole = response.StatusCode == HttpStatusCode.OK
                || response.Content.Headers.ContentRange is { From: 0, To: { } to, Length: { } size } && to == size - 1;
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            var buffer = new byte[64 * 1024];
            long read = 0;
            int n;
            while ((n = await body.ReadAsync(buffer, ct)) > 0)
            {
                read += n;
                if (how == Fetch.Cut && read >= 1024)
                {
                    return; // the client leaves before the end
                }
            }
            if (whole && read == length && owners.GetValueOrDefault(orderId) == QuotaUser)
            {
                Interlocked.Increment(ref quotaCompleted);
            }
        }
    }

    /// <summary>The order's public links, read from its metalink (null when it has none now).</summary>
    private async Task<Links?> LinksAsync(HttpClient client, long orderId, CancellationToken ct)
    {
        var (response, _) = await SendAsync(client, HttpMethod.Get, $"/api/user/orders/{orderId}/metalink/download", "GET metalink", ct);
        using (response)
        {
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return null;
            }
            XDocument metalink;
            try
            {
                metalink = XDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            }
            catch (XmlException)
            {
                Interlocked.Increment(ref aborted);
                return null;
            }
            var files = metalink.Descendants().Where(e => e.Name.LocalName == "url").Select(e => new Uri(e.Value))
                .Where(u => u.AbsolutePath.StartsWith("/api/orders/public/files/", StringComparison.Ordinal)).Select(u => u.PathAndQuery).ToList();
            if (files.Count == 0)
            {
                return null;
            }
            var token = System.Web.HttpUtility.ParseQueryString(new Uri("http://x" + files[0]).Query)["orderToken"]!;
            return links[orderId] = new Links(files, $"/api/user/orders/metalink/download?orderToken={Uri.EscapeDataString(token)}");
        }
    }

    // ---- after the race ----------------------------------------------------------------------------------------

    /// <summary>Every order whose expiration date has passed, and whose links a client holds, refuses them all.</summary>
    private async Task ProbeExpiredOrdersAsync(string when)
    {
        List<(long Id, DateTime At)> expired;
        var now = clock.GetUtcNow().UtcDateTime;
        await using (var db = factory.CreateDbContext())
        {
            expired = (await db.Orders.AsNoTracking().Where(o => o.ExpirationDate != null && o.ExpirationDate < now).Select(o => new { o.Id, o.ExpirationDate }).ToListAsync())
                .Select(o => (o.Id, o.ExpirationDate!.Value)).ToList();
        }
        foreach (var (id, at) in expired)
        {
            if (links.TryGetValue(id, out var known))
            {
                await Task.WhenAll(known.Files.Take(5).Append(known.Metalink).Select(url => ProbeExpiredAsync(id, at, url, when)));
            }
        }
    }

    /// <summary>Waits until the engine has nothing left to do (throttled sub-orders wait for downloads) and the rows stop changing.</summary>
    private async Task SettleAsync(List<string> problems)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string? last = null;
        var stable = 0;
        while (stable < 3)
        {
            await using var db = factory.CreateDbContext();
            var staging = await db.SubOrders.CountAsync(s => s.JobState == SubOrderJobState.Staging);
            var completing = await db.Orders.CountAsync(o => o.Status == OrderStatus.Pending);
            var fingerprint = string.Join('/', await db.Orders.SumAsync(o => o.Version), await db.SubOrders.SumAsync(s => s.Version),
                await db.OrderFiles.SumAsync(f => f.Version), await db.OrderFiles.CountAsync(), await db.Users.SumAsync(u => u.DownloadsCount));
            stable = staging == 0 && completing == 0 && fingerprint == last ? stable + 1 : 0;
            last = fingerprint;
            if (DateTime.UtcNow > deadline)
            {
                problems.Add($"the engine did not settle within 30 s after the race: {staging} sub-orders staging, {completing} orders pending");
                return;
            }
            await Task.Delay(300);
        }
    }

    private async Task CheckDatabaseAsync(List<string> problems)
    {
        await using var db = factory.CreateDbContext();
        var orders = await db.Orders.AsNoTracking().OrderBy(o => o.Id).ToListAsync();
        var subOrders = (await db.SubOrders.AsNoTracking().Select(s => new { s.Id, s.OrderId, s.Sequence, s.External, s.WaitingForUser }).ToListAsync())
            .ToLookup(s => s.OrderId);
        var files = (await db.OrderFiles.AsNoTracking().Select(f => new { f.OrderId, f.SubOrderId, f.State, External = f.Tier == StorageTier.External, f.Size }).ToListAsync())
            .ToLookup(f => f.OrderId);

        foreach (var order in orders)
        {
            var what = $"order {order.Id} ({order.Owner}, {order.Status})";
            var mine = files[order.Id].ToList();
            var subs = subOrders[order.Id].ToList();
            var available = mine.Count(f => f.State == OrderFileState.Available);

            // A final order waits for no one, nor does any of its sub-orders.
            var final = order.Status is OrderStatus.Deleted or OrderStatus.Expired or OrderStatus.Failed
                || (order.Status is OrderStatus.Done or OrderStatus.DoneWithWarning && available == 0);
            if (final && (order.WaitingForUser || subs.Any(s => s.WaitingForUser)))
            {
                problems.Add($"{what} is final but waits for the user (order flag {order.WaitingForUser}, waiting sub-orders {string.Join(",", subs.Where(s => s.WaitingForUser).Select(s => s.Sequence))})");
            }
            if (order.Status == OrderStatus.Error)
            {
                problems.Add($"{what} ended in ERROR: {order.Message}");
            }

            if (order.Status == OrderStatus.Expired)
            {
                // Expiry deletes the order's files: nothing is available any more.
                if (mine.Count > 0 || order.AvailableFilesCount != 0 || order.ZippableFilesCount != 0)
                {
                    problems.Add($"{what}: {mine.Count} files left, available {order.AvailableFilesCount}, zippable {order.ZippableFilesCount} (expected none)");
                }
                continue;
            }
            if (order.CompletionDate is null)
            {
                // Figures are computed from the completion on.
                continue;
            }

            // The stored counters are what the files say (orders.md §5: progress by bytes, errors = ERROR + PROCESSING_ERROR).
            var totalBytes = mine.Sum(f => f.Size);
            var doneBytes = mine.Where(f => f.State != OrderFileState.Pending).Sum(f => f.Size);
            var expected = (
                Available: available,
                Zippable: mine.Count(f => f.State == OrderFileState.Available && !f.External),
                InError: mine.Count(f => f.State is OrderFileState.Error or OrderFileState.ProcessingError),
                Percent: totalBytes == 0 ? 100 : (int)(100 * doneBytes / totalBytes));
            var stored = (Available: order.AvailableFilesCount, Zippable: order.ZippableFilesCount, InError: order.FilesInErrorCount, Percent: order.PercentCompleted);
            if (stored != expected)
            {
                problems.Add($"{what}: stored (available, zippable, in error, %) = {stored} but its files say {expected} " +
                    $"[{string.Join(", ", mine.GroupBy(f => f.State).Select(g => $"{g.Key} × {g.Count()}"))}]");
            }

            // ...and so are the waiting flags (a sub-order waits when none of its files is pending and one is available)...
            foreach (var sub in subs)
            {
                var ofSub = mine.Where(f => f.SubOrderId == sub.Id).ToList();
                // A deleted order's sub-orders wait for no one (checked above with the other final orders).
                var waiting = order.Status != OrderStatus.Deleted && !sub.External && ofSub.All(f => f.State != OrderFileState.Pending) && ofSub.Any(f => f.State == OrderFileState.Available);
                if (sub.WaitingForUser != waiting)
                {
                    problems.Add($"{what}: sub-order {sub.Sequence} waiting = {sub.WaitingForUser} but its files say {waiting}");
                }
            }
            if (order.WaitingForUser != subs.Any(s => s.WaitingForUser))
            {
                problems.Add($"{what}: waiting = {order.WaitingForUser} but its sub-orders say {!order.WaitingForUser}");
            }

            // ...and the status: an order with nothing left pending is no longer running (orders.md §3.3, progress at 100 %).
            if (order.Status is OrderStatus.Running or OrderStatus.Paused && mine.Count > 0 && mine.All(f => f.State != OrderFileState.Pending))
            {
                problems.Add($"{what}: nothing pending any more, yet still {order.Status} [{string.Join(", ", mine.GroupBy(f => f.State).Select(g => $"{g.Key} × {g.Count()}"))}]");
            }
        }

        // One cart gives one order.
        foreach (var shared in orders.Where(o => o.BasketId is not null).GroupBy(o => o.BasketId).Where(g => g.Count() > 1))
        {
            problems.Add($"cart {shared.Key} gave {shared.Count()} orders: {string.Join(", ", shared.Select(o => o.Id))}");
        }
        var byId = orders.ToDictionary(o => o.Id);
        foreach (var round in rounds)
        {
            foreach (var created in round.Results.Where(r => r.OrderId is not null))
            {
                if (byId.GetValueOrDefault(created.OrderId!.Value) is not { } row || row.BasketId != round.BasketId)
                {
                    problems.Add($"order {created.OrderId} answered 201 for cart {round.BasketId} but its row has cart {byId.GetValueOrDefault(created.OrderId.Value)?.BasketId}");
                }
            }
        }

        // The quota (only ever raised during the race): what the clients received, and what the portal counted.
        var quotaRow = await db.Users.AsNoTracking().Where(u => u.NormalizedEmail == QuotaUser.ToUpperInvariant()).Select(u => new { u.MaxDownloads, u.DownloadsCount }).SingleAsync();
        var max = quotaRow.MaxDownloads;
        if (max != quotaMax)
        {
            problems.Add($"{QuotaUser}'s MaxDownloads is {max}, the admin set {quotaMax}");
        }
        if (quotaCompleted > max)
        {
            problems.Add($"{QuotaUser} received {quotaCompleted} complete raw-data downloads with MaxDownloads = {max} (stored count {quotaRow.DownloadsCount})");
        }
        if (quotaRow.DownloadsCount > max)
        {
            problems.Add($"{QuotaUser}'s stored downloads count is {quotaRow.DownloadsCount} with MaxDownloads = {max}");
        }
        if (quotaCompleted > quotaRow.DownloadsCount)
        {
            problems.Add($"{QuotaUser} received {quotaCompleted} complete raw-data downloads but the portal counted {quotaRow.DownloadsCount}");
        }
        if (quotaRefusals == 0)
        {
            problems.Add($"the race never used up the quota of {QuotaUser} ({quotaRow.DownloadsCount}/{max}, no refusal): too weak to check it");
        }
        output.WriteLine($"Orders by status: {string.Join(", ", orders.GroupBy(o => o.Status).OrderBy(g => g.Key).Select(g => $"{g.Key} × {g.Count()}"))}; " +
            $"quota user's stored count {quotaRow.DownloadsCount}/{max}");
    }

    private void CheckClients(List<string> problems)
    {
        problems.AddRange(failures.Take(20).Select(f => "answer: " + f));
        problems.AddRange(errorLog.RequestErrors.Take(10).Select(e => "request failed after its answer started: " + e));
        problems.AddRange(linkViolations.Take(20).Select(v => "public link after expiration: " + v));
        foreach (var round in rounds)
        {
            var created = round.Results.Count(r => r.Status == (int)HttpStatusCode.Created);
            if (created > 1)
            {
                problems.Add($"{round.Owner}'s cart {round.BasketId} was ordered {created} times by {round.Results.Count} parallel creates: {string.Join(", ", round.Results.Select(r => $"{r.Status} {r.Code}"))}");
            }
            foreach (var other in round.Results.Where(r => r.Status is not (201 or 204) && !(r.Status == 409 && r.Code == "CART_ALREADY_ORDERED") && r.Status is < 400 or >= 500))
            {
                problems.Add($"a parallel create of {round.Owner}'s cart {round.BasketId} answered {other.Status} {other.Code}");
            }
        }
        // The race really raced: the checks above had something to check.
        if (!rounds.Any(r => r.Results.Count(x => x.Status == 201) == 1 && r.Results.Any(x => x.Status is 409 or 204)))
        {
            problems.Add("no cart was ordered by parallel clients where one won and another was refused: too weak");
        }
        if (victimsProbed < 3)
        {
            problems.Add($"only {victimsProbed} orders had their public links tried after an expiration moved close: too weak");
        }
        if (answers.Values.Sum() < 300)
        {
            problems.Add($"only {answers.Values.Sum()} requests: too weak");
        }
    }

    /// <summary>
    /// Errors the app logs. Those of the request pipeline are requests that failed where no status code shows it (an
    /// exception once the answer had started, e.g. in the middle of a zip): the 500s of streamed answers. The others
    /// (background jobs) are printed; their effects are checked in the database.
    /// </summary>
    private sealed class ErrorLog : ILoggerProvider
    {
        private static readonly string[] RequestCategories =
        [
            "Microsoft.AspNetCore.Diagnostics", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server", "Microsoft.AspNetCore.TestHost",
            "Regards.Portal.Infrastructure.PortalExceptionHandler",
        ];

        private readonly ConcurrentQueue<string> errors = new();

        public IReadOnlyCollection<string> Errors => errors;

        public IEnumerable<string> RequestErrors => errors.Where(e => RequestCategories.Any(c => e.StartsWith(c, StringComparison.Ordinal)));

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, errors);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> errors) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    errors.Enqueue($"{category}: {formatter(state, exception)} {exception?.GetType().Name}: {exception?.Message}");
                }
            }
        }
    }
}
