using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Data;
using Regards.Portal.Downloads;
using Regards.Portal.Identity;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Security;

/// <summary>Who calls: no session, a session of some role, or only a public token in the query string.</summary>
public enum Who
{
    Anonymous,
    OtherUser,
    Owner,
    Admin,
    ProjectAdmin,
    TokenOfThisOrder,
    TokenOfOtherOrder,
    ExpiredToken,
}

/// <summary>
/// The orders API app with the callers of the security tests: the demo user (owner of every order here), the
/// demo guest (another user), a plain ADMIN made here, the demo PROJECT_ADMIN, and public tokens. The orders the
/// tests act on are built once, at start.
/// </summary>
public sealed class SecurityFactory : Orders.OrdersApiFactory, IAsyncLifetime
{
    public const string AdminEmail = "plain-admin@regards.local";
    private const string AdminPassword = "Regards!PlainAdmin1";

    /// <summary>Tables whose rows a refused call must leave exactly as they were.</summary>
    public static readonly string[] WatchedTables =
        ["Orders", "DatasetTasks", "SubOrders", "OrderFiles", "Baskets", "BasketDatasetSelections", "BasketItemSelections", "AspNetUsers", "ProcessingSettings"];

    private readonly Dictionary<Who, HttpClient> sessions = [];
    private readonly Queue<long> doneVictims = new();
    private readonly Queue<long> deletedVictims = new();

    public HttpClient Anonymous { get; private set; } = null!;

    /// <summary>The owner's DONE order every read and refused action targets.</summary>
    public long OrderA { get; private set; }

    /// <summary>Another DONE order of the same owner: its token must not open order A.</summary>
    public long OrderB { get; private set; }

    /// <summary>A DELETED order of the owner, never removed (target of refused removals).</summary>
    public long DeletedOrder { get; private set; }

    public long TaskA { get; private set; }
    public long FileA { get; private set; }
    public long FileB { get; private set; }
    public string TokenA { get; private set; } = "";
    public string TokenB { get; private set; } = "";
    public string ExpiredTokenA { get; private set; } = "";
    public string ProviderId { get; private set; } = "";

    public HttpClient Session(Who who) => sessions[who];

    public static bool IsSession(Who who) => who is Who.OtherUser or Who.Owner or Who.Admin or Who.ProjectAdmin;

    public static bool IsAdmin(Who who) => who is Who.Admin or Who.ProjectAdmin;

    public string? Token(Who who) => who switch
    {
        Who.TokenOfThisOrder => TokenA,
        Who.TokenOfOtherOrder => TokenB,
        Who.ExpiredToken => ExpiredTokenA,
        _ => null,
    };

    /// <summary>The client a caller uses: its session, or no session at all (anonymous and token callers).</summary>
    public HttpClient ClientOf(Who who) => IsSession(who) ? sessions[who] : Anonymous;

    /// <summary>A DONE order of the owner nobody else uses (for a successful delete).</summary>
    public long TakeDoneVictim() => doneVictims.Dequeue();

    /// <summary>A DELETED order of the owner nobody else uses (for a successful removal).</summary>
    public long TakeDeletedVictim() => deletedVictims.Dequeue();

    public async Task InitializeAsync()
    {
        using (var scope = Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var admin = new ApplicationUser { UserName = AdminEmail, Email = AdminEmail, EmailConfirmed = true };
            var created = await users.CreateAsync(admin, AdminPassword);
            Assert.True(created.Succeeded, string.Join(" ", created.Errors.Select(e => e.Description)));
            Assert.True((await users.AddToRoleAsync(admin, PortalRoles.Admin)).Succeeded);
        }
        Anonymous = CreateAnonymousClient();
        sessions[Who.OtherUser] = await CreateClientForAsync(DemoUsers.Guest);
        sessions[Who.Owner] = await CreateClientForAsync(DemoUsers.User);
        sessions[Who.Admin] = await CreateClientForAsync(AdminEmail, AdminPassword);
        sessions[Who.ProjectAdmin] = await CreateClientForAsync(DemoUsers.Admin);
        var owner = sessions[Who.Owner];

        var search = await owner.GetFromJsonAsync<JsonElement>($"/api/catalog/search?datasetId={Uri.EscapeDataString(Swot)}&size=1");
        ProviderId = search.GetProperty("content")[0].GetProperty("providerId").GetString()!;

        OrderA = await DoneOrderAsync("sec-a");
        OrderB = await DoneOrderAsync("sec-b");
        DeletedOrder = await DeletedOrderAsync("sec-deleted");
        for (var i = 0; i < 3; i++)
        {
            doneVictims.Enqueue(await DoneOrderAsync($"sec-victim-{i}"));
        }
        for (var i = 0; i < 2; i++)
        {
            deletedVictims.Enqueue(await DeletedOrderAsync($"sec-deleted-victim-{i}"));
        }

        TaskA = (await GetOrderAsync(owner, OrderA)).GetProperty("datasetTasks")[0].GetProperty("id").GetInt64();
        await using var db = CreateDbContext();
        FileA = await db.OrderFiles.Where(f => f.OrderId == OrderA && f.Tier != Regards.Portal.Catalog.StorageTier.External).OrderBy(f => f.Id).Select(f => f.Id).FirstAsync();
        FileB = await db.OrderFiles.Where(f => f.OrderId == OrderB && f.Tier != Regards.Portal.Catalog.StorageTier.External).OrderBy(f => f.Id).Select(f => f.Id).FirstAsync();
        var tokens = Services.GetRequiredService<OrderTokens>();
        TokenA = tokens.Create(OrderA, DemoUsers.User, DateTime.UtcNow.AddDays(1));
        TokenB = tokens.Create(OrderB, DemoUsers.User, DateTime.UtcNow.AddDays(1));
        ExpiredTokenA = tokens.Create(OrderA, DemoUsers.User, DateTime.UtcNow.AddMinutes(-1));
    }

    Task IAsyncLifetime.DisposeAsync() => Task.CompletedTask;

    private async Task<long> DoneOrderAsync(string label) =>
        (await OrderUntilDoneAsync(sessions[Who.Owner], Selection, label)).Id();

    private async Task<long> DeletedOrderAsync(string label)
    {
        var id = await DoneOrderAsync(label);
        Assert.Equal(HttpStatusCode.OK, (await sessions[Who.Owner].DeleteAsync($"/api/user/orders/{id}")).StatusCode);
        return id;
    }

    /// <summary>A few files of the online dataset: orders are DONE in well under a second.</summary>
    public static object Selection => new { datasetId = Swot, q = "SSH_001_01" };

    /// <summary>The caller's cart holds at least one selection; returns its first dataset selection and item date.</summary>
    public async Task<(long SelectionId, string ItemDate)> EnsureCartAsync(Who who, int datasets = 1)
    {
        var client = sessions[who];
        var basket = await ReadCartAsync(client);
        if (basket is null || basket.Value.GetProperty("datasetSelections").GetArrayLength() < datasets)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/order/basket/selection", Selection)).StatusCode);
            if (datasets > 1)
            {
                Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/order/basket/selection", new { datasetId = Sentinel, q = "1" })).StatusCode);
            }
            basket = await ReadCartAsync(client);
        }
        var selection = basket!.Value.GetProperty("datasetSelections")[0];
        return (selection.GetProperty("id").GetInt64(), selection.GetProperty("itemsSelections")[0].GetProperty("date").GetString()!);
    }

    private static async Task<JsonElement?> ReadCartAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/order/basket");
        return response.StatusCode == HttpStatusCode.OK ? (await response.Content.ReadFromJsonAsync<JsonElement>()).Content() : null;
    }

    /// <summary>Every row of the watched tables, as text: equal snapshots mean nothing was written.</summary>
    public async Task<string> SnapshotAsync()
    {
        await using var db = CreateDbContext();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        var text = new StringBuilder();
        foreach (var table in WatchedTables)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM \"{table}\" ORDER BY 1";
            await using var reader = await command.ExecuteReaderAsync();
            text.Append("## ").AppendLine(table);
            while (await reader.ReadAsync())
            {
                AppendRow(text, reader);
            }
        }
        return text.ToString();
    }

    private static void AppendRow(StringBuilder text, DbDataReader reader)
    {
        for (var i = 0; i < reader.FieldCount; i++)
        {
            text.Append(reader.GetName(i)).Append('=').Append(Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)).Append('|');
        }
        text.AppendLine();
    }

    /// <summary>The first differing line of two snapshots, to say what a refused call changed.</summary>
    public static string Difference(string before, string after)
    {
        var a = before.Split('\n');
        var b = after.Split('\n');
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var x = i < a.Length ? a[i] : "<none>";
            var y = i < b.Length ? b[i] : "<none>";
            if (x != y)
            {
                return $"before: {Truncate(x)} / after: {Truncate(y)}";
            }
        }
        return "no difference";
    }

    private static string Truncate(string line) => line.Length > 300 ? line[..300] + "…" : line;

    /// <summary>
    /// Waits until the background work a successful call started is over (orders created by it staged, files marked
    /// downloaded after the response): no live order and the rows unchanged over a short interval.
    /// </summary>
    public async Task<string> SettleAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var previous = await SnapshotAsync();
        while (true)
        {
            await Task.Delay(150);
            var current = await SnapshotAsync();
            await using var db = CreateDbContext();
            var live = await db.Orders.AnyAsync(o => o.Status == OrderStatus.Pending || o.Status == OrderStatus.Running);
            if (current == previous && !live)
            {
                return current;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The app did not settle after a successful call.");
            }
            previous = current;
        }
    }

    /// <summary>A complete download of file A is recorded after the response: wait for it.</summary>
    public Task WaitFileADownloadedAsync() => WaitAsync(async () =>
    {
        await using var db = CreateDbContext();
        return await db.OrderFiles.AnyAsync(f => f.Id == FileA && f.State == OrderFileState.Downloaded);
    }, 10, "file A marked downloaded");

    /// <summary>Order A's files back to AVAILABLE, so a zip or a file always has something to send.</summary>
    public async Task ResetFilesOfAAsync()
    {
        await using var db = CreateDbContext();
        await db.OrderFiles.Where(f => f.OrderId == OrderA).ExecuteUpdateAsync(s => s.SetProperty(f => f.State, OrderFileState.Available));
    }
}
