using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CsvHelper;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Orders;

public class OrdersApiFactory : PortalAppFactory
{
    public OrdersApiFactory() : this(DatabaseProvider.Sqlite)
    {
    }

    protected OrdersApiFactory(DatabaseProvider provider) : base(provider)
    {
        Settings["Storage:NearlineLatencyPerRequest"] = "00:00:00.100";
        Settings["Orders:PollInterval"] = "00:00:00.050";
        // These tests place many orders per user without downloading: the throttle is tested on its own.
        Settings["Orders:MaxActiveSubOrdersPerUser"] = "1000";
    }

    public sealed class OnPostgreSql() : OrdersApiFactory(DatabaseProvider.PostgreSql);
}

/// <summary>Every order action through the real HTTP pipeline, with its success and refusal codes, on each provider.</summary>
public abstract class OrdersApiTests(OrdersApiFactory factory)
{
    public sealed class OnSqlite(OrdersApiFactory factory) : OrdersApiTests(factory), IClassFixture<OrdersApiFactory>;

    public sealed class OnPostgreSql(OrdersApiFactory.OnPostgreSql factory) : OrdersApiTests(factory), IClassFixture<OrdersApiFactory.OnPostgreSql>;

    private async Task<(HttpClient Client, JsonElement Order)> DoneOrderAsync(string email, string label)
    {
        var client = await factory.CreateClientForAsync(email);
        return (client, await OrderUntilDoneAsync(client, new { datasetId = Swot, q = "2023" }, label));
    }

    [Fact]
    public async Task An_empty_cart_gives_204_and_no_order()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.Guest);
        await client.DeleteAsync("/api/order/basket");
        var response = await client.PostAsJsonAsync("/api/user/orders", new { label = "nothing" });
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await using var db = factory.CreateDbContext();
        Assert.False(await db.Orders.AnyAsync(o => o.Label == "nothing"));
    }

    [Fact]
    public async Task Creating_detaches_the_cart_completes_asynchronously_and_builds_tasks_and_links()
    {
        var (client, done) = await DoneOrderAsync(DemoUsers.User, "swot-2023");
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync("/api/order/basket")).StatusCode);
        Assert.Equal(100, done.GetProperty("percentCompleted").GetInt32());
        var task = done.GetProperty("datasetTasks")[0];
        Assert.Equal(Swot, task.GetProperty("datasetIpid").GetString());
        Assert.Equal(done.GetProperty("objectsCount").GetInt32(), task.GetProperty("objectsCount").GetInt32());
        Assert.True(done.GetProperty("filesCount").GetInt32() >= done.GetProperty("objectsCount").GetInt32());
        Assert.NotNull(done.GetProperty("expirationDate").GetString());
        // REGARDS' rels in REGARDS' order (OrderControllerLinksIT: DONE → self, list, download, delete, restart), then the portal's metalink.
        Assert.Equal(["self", "list", "download", "delete", "restart", "metalink"], (await GetOrderModelAsync(client, done.Id())).Links());

        await using var db = factory.CreateDbContext();
        var files = await db.OrderFiles.Where(f => f.OrderId == done.Id()).ToListAsync();
        Assert.Equal(done.GetProperty("filesCount").GetInt32(), files.Count);
        Assert.All(files, f => Assert.Equal(OrderFileState.Available, f.State));
        Assert.Equal(done.GetProperty("totalSize").GetInt64(), files.Sum(f => f.Size));
    }

    /// <summary>
    /// An order's files get time-ordered public ids (UUID version 7, from the portal's clock), written in that order:
    /// the unique index on them grows at its end, where random ids scattered a million-file order's inserts over the
    /// whole index (P3 on SQLite: about half of the order's time).
    /// </summary>
    [Fact]
    public async Task The_public_ids_of_an_orders_files_follow_the_order_they_are_written_in()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var (_, done) = await DoneOrderAsync(DemoUsers.User, "public-ids");
        var after = DateTimeOffset.UtcNow.AddSeconds(1);
        await using var db = factory.CreateDbContext();
        var ids = await db.OrderFiles.Where(f => f.OrderId == done.Id()).OrderBy(f => f.Id).Select(f => f.PublicId).ToListAsync();
        Assert.True(ids.Count > 1);
        Assert.All(ids, id => Assert.Equal(7, id.Version));
        // A version 7 id begins with its time in milliseconds since 1970 (48 bits).
        var times = ids.Select(id => DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(id.ToString("N")[..12], 16))).ToList();
        Assert.All(times, t => Assert.InRange(t, before, after));
        Assert.Equal(times.Order(), times);
    }

    [Fact]
    public async Task Labels_are_checked_and_generated_when_empty()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        await FillCartAsync(client, new { datasetId = Swot, q = "SSH_001_001" });
        var tooLong = await client.PostAsJsonAsync("/api/user/orders", new { label = new string('x', 51) });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooLong.StatusCode);
        Assert.Equal("LABEL_TOO_LONG", (await tooLong.Content.ReadFromJsonAsync<JsonElement>()).Code());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/order/basket")).StatusCode); // nothing was written

        var generated = await CreateOrderAsync(client, null);
        Assert.Matches(@"^Order of \d{4}/\d{2}/\d{2} at \d{2}:\d{2}:\d{2}$", generated.GetProperty("label").GetString());

        await FillCartAsync(client, new { datasetId = Swot, q = "SSH_001_002" });
        var twin = await client.PostAsJsonAsync("/api/user/orders", new { label = generated.GetProperty("label").GetString() });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, twin.StatusCode);
        Assert.Equal("LABEL_NOT_UNIQUE", (await twin.Content.ReadFromJsonAsync<JsonElement>()).Code());
    }

    [Fact]
    public async Task Other_users_get_404_admins_see_everything_and_only_admins_remove()
    {
        var (owner, order) = await DoneOrderAsync(DemoUsers.User, "private-order");
        var guest = await factory.CreateClientForAsync(DemoUsers.Guest);
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        var id = order.Id();

        Assert.Equal(HttpStatusCode.NotFound, (await guest.GetAsync($"/api/user/orders/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await guest.PutAsync($"/api/user/orders/pause/{id}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await guest.DeleteAsync($"/api/user/orders/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await guest.DeleteAsync($"/api/user/orders/remove/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/user/orders/{id}")).StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden, (await owner.DeleteAsync($"/api/user/orders/remove/{id}")).StatusCode);
        var notDeleted = await admin.DeleteAsync($"/api/user/orders/remove/{id}");
        Assert.Equal(HttpStatusCode.Conflict, notDeleted.StatusCode);
        Assert.Equal("ORDER_MUST_BE_DELETED", (await notDeleted.Content.ReadFromJsonAsync<JsonElement>()).Code());

        var deleted = await owner.DeleteAsync($"/api/user/orders/{id}");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal("DELETED", (await deleted.Content.ReadFromJsonAsync<JsonElement>()).Status());
        var mine = await owner.GetFromJsonAsync<JsonElement>("/api/user/orders?size=1000");
        Assert.DoesNotContain(mine.GetProperty("content").EnumerateArray(), o => o.Id() == id);
        var adminView = await admin.GetFromJsonAsync<JsonElement>($"/api/user/orders/{id}");
        Assert.Contains("remove", adminView.Links());

        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync($"/api/user/orders/remove/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/user/orders/{id}")).StatusCode);
        await using var db = factory.CreateDbContext();
        Assert.False(await db.OrderFiles.AnyAsync(f => f.OrderId == id));
        Assert.False(await db.SubOrders.AnyAsync(s => s.OrderId == id));
    }

    [Theory]
    [InlineData("PUT", "/api/user/orders/pause/{0}", "ORDER_MUST_BE_PENDING_OR_RUNNING")]
    [InlineData("PUT", "/api/user/orders/resume/{0}", "ORDER_MUST_BE_PAUSED")]
    [InlineData("PUT", "/api/user/orders/{0}/retry", "ORDER_MUST_BE_DONE_WITH_WARNING_OR_FAILED")]
    public async Task Refused_transitions_answer_409_with_the_code(string method, string path, string code)
    {
        var (client, order) = await DoneOrderAsync(DemoUsers.User, "refusals-" + code[..20]);
        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), string.Format(path, order.Id())));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(code, (await response.Content.ReadFromJsonAsync<JsonElement>()).Code());
        Assert.Equal("DONE", (await GetOrderAsync(client, order.Id())).Status());
    }

    [Fact]
    public async Task A_deleted_order_with_files_never_downloaded_waits_for_no_one()
    {
        var (client, done) = await DoneOrderAsync(DemoUsers.User, "deleted-not-waiting");
        Assert.True(done.GetProperty("waitingForUser").GetBoolean(), "precondition: its files wait for the user");
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/api/user/orders/{done.Id()}")).StatusCode);

        var deleted = await GetOrderAsync(client, done.Id());
        Assert.Equal("DELETED", deleted.Status());
        Assert.False(deleted.GetProperty("waitingForUser").GetBoolean());
        await using (var db = factory.CreateDbContext())
        {
            Assert.All(await db.SubOrders.Where(s => s.OrderId == done.Id()).ToListAsync(), s =>
            {
                Assert.False(s.WaitingForUser);
                Assert.True(s.Ended);
                Assert.Equal(SubOrderJobState.Ended, s.JobState);
            });
        }
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        var waiting = await (await admin.PostAsJsonAsync("/api/orders/search?size=1000", new { waitingForUser = true })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.DoesNotContain(waiting.Elements(), o => o.Id() == done.Id());
        Assert.All(waiting.Elements(), o => Assert.NotEqual("DELETED", o.Status()));
    }

    [Fact]
    public async Task One_cart_ordered_eight_times_at_once_gives_one_order()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.Guest);
        for (var round = 0; round < 3; round++)
        {
            await FillCartAsync(client, new { datasetId = Swot, q = "SSH_001_01" });
            long basketId;
            await using (var db = factory.CreateDbContext())
            {
                basketId = await db.Baskets.Where(b => b.Owner == DemoUsers.Guest && b.OrderId == null).Select(b => b.Id).SingleAsync();
            }
            var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => client.PostAsJsonAsync("/api/user/orders", new { label = $"twice-{round}-{i}" })));
            Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Created);
            foreach (var refused in answers.Where(a => a.StatusCode != HttpStatusCode.Created))
            {
                // Too late: the cart was taken (409), or already gone when the request looked (204).
                Assert.Contains(refused.StatusCode, new[] { HttpStatusCode.Conflict, HttpStatusCode.NoContent });
                if (refused.StatusCode == HttpStatusCode.Conflict)
                {
                    Assert.Equal("CART_ALREADY_ORDERED", (await refused.Content.ReadFromJsonAsync<JsonElement>()).Code());
                }
            }
            await using (var db = factory.CreateDbContext())
            {
                Assert.Equal(1, await db.Orders.CountAsync(o => o.BasketId == basketId));
                Assert.Equal(1, await db.Orders.CountAsync(o => o.Owner == DemoUsers.Guest && o.Label.StartsWith($"twice-{round}-")));
            }
        }
    }

    [Fact]
    public async Task Unknown_orders_are_404()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/user/orders/987654")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PutAsync("/api/user/orders/pause/987654", null)).StatusCode);
    }

    [Fact]
    public async Task Restart_makes_a_new_order_from_the_same_selections_and_needs_a_label()
    {
        var (client, order) = await DoneOrderAsync(DemoUsers.User, "to-restart");
        var noLabel = await client.PostAsJsonAsync($"/api/user/orders/{order.Id()}/restart", new { label = "" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, noLabel.StatusCode);
        var restarted = await client.PostAsJsonAsync($"/api/user/orders/{order.Id()}/restart", new { label = "restarted" });
        Assert.Equal(HttpStatusCode.Created, restarted.StatusCode);
        var copy = await restarted.Content.ReadFromJsonAsync<JsonElement>();
        Assert.NotEqual(order.Id(), copy.Id());
        var done = await WaitForOrderAsync(client, copy.Id(), o => o.Status() == "DONE");
        Assert.Equal(order.GetProperty("filesCount").GetInt32(), done.GetProperty("filesCount").GetInt32());
        // The user's current cart was not touched.
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync("/api/order/basket")).StatusCode);
    }

    [Fact]
    public async Task Admins_search_with_filters_sorting_and_paging_and_export_the_csv()
    {
        var (_, order) = await DoneOrderAsync(DemoUsers.User, "=HYPERLINK(\"x\")");
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        var filter = new { owner = DemoUsers.User, statuses = new { values = new[] { "DONE" }, mode = "INCLUDE" } };
        var page = await (await admin.PostAsJsonAsync("/api/orders/search?page=0&size=5&sort=label,asc", filter)).Content.ReadFromJsonAsync<JsonElement>();
        var rows = page.Elements().ToList();
        Assert.NotEmpty(rows);
        Assert.All(rows, o => Assert.Equal("DONE", o.Status()));
        Assert.All(rows, o => Assert.Equal(DemoUsers.User, o.GetProperty("owner").GetString()));
        var labels = rows.Select(o => o.GetProperty("label").GetString()!).ToList();
        Assert.Equal(labels.Order(StringComparer.Ordinal), labels);

        var excluded = await (await admin.PostAsJsonAsync("/api/orders/search?size=1000", new { statuses = new { values = new[] { "DONE" }, mode = "EXCLUDE" } })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.DoesNotContain(excluded.GetProperty("content").EnumerateArray(), o => o.Status() == "DONE");

        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/api/orders/search?sort=password", filter)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsync("/api/orders/search", new StringContent("{\"statuses\":{\"values\":[\"NOPE\"]}}", Encoding.UTF8, "application/json"))).StatusCode);
        var user = await factory.CreateClientForAsync(DemoUsers.User);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.PostAsJsonAsync("/api/orders/search", filter)).StatusCode);

        var csv = await admin.PostAsJsonAsync("/api/orders/csv", filter);
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        Assert.Contains("orders.csv", csv.Content.Headers.ContentDisposition!.ToString());
        var text = await csv.Content.ReadAsStringAsync();
        // The admin page's link: the same filter in the query string gives the same file.
        var link = "/api/orders/csv" + new OrderSearchFilter { Owner = DemoUsers.User, Statuses = new StatusFilter([OrderStatus.Done]) }.ToQueryString();
        Assert.Equal(text, await admin.GetStringAsync(link));
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/orders/csv?statuses=SHIPPED")).StatusCode);
        Assert.StartsWith(string.Join(';', OrderCsvExporter.Header) + "\n", text);
        // The reader consumes the header row itself; the records are the data rows.
        await using var reader = CsvReader.Create(new StringReader(text), new CsvReaderOptions { Separator = ';' });
        var records = new List<string[]>();
        await foreach (var record in reader)
        {
            var fields = new string[record.FieldCount];
            for (var i = 0; i < fields.Length; i++)
            {
                fields[i] = record[i].ToString();
            }
            records.Add(fields);
        }
        var data = records;
        Assert.Equal(data.Select(r => long.Parse(r[0])).Order(), data.Select(r => long.Parse(r[0])));
        var injected = data.Single(r => long.Parse(r[0]) == order.Id());
        var label = Array.IndexOf(OrderCsvExporter.Header, "LABEL");
        Assert.False(injected[label].StartsWith('='), "formula cells must be neutralised");
        Assert.Contains("HYPERLINK", injected[label]);
        Assert.Equal("DONE", injected[Array.IndexOf(OrderCsvExporter.Header, "STATUS")]);
    }

    [Fact]
    public async Task Admins_extend_the_expiry_of_a_live_order()
    {
        var (client, order) = await DoneOrderAsync(DemoUsers.User, "extend-me");
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        var target = DateTime.UtcNow.AddDays(30);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PutAsJsonAsync($"/api/orders/{order.Id()}/expiration", new { expirationDate = target })).StatusCode);
        var extended = await admin.PutAsJsonAsync($"/api/orders/{order.Id()}/expiration", new { expirationDate = target });
        Assert.Equal(HttpStatusCode.OK, extended.StatusCode);
        var date = (await extended.Content.ReadFromJsonAsync<JsonElement>()).Content().GetProperty("expirationDate").GetDateTime().ToUniversalTime();
        Assert.InRange(date, target.AddSeconds(-1), target.AddSeconds(1));
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PutAsJsonAsync($"/api/orders/{order.Id()}/expiration", new { expirationDate = DateTime.UtcNow.AddDays(-1) })).StatusCode);
    }
}
