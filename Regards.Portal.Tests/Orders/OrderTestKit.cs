using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Regards.Portal.Catalog;

namespace Regards.Portal.Tests.Orders;

internal static class OrderTestKit
{
    public static readonly string Swot = CatalogGenerator.SwotId;
    public static readonly string Sentinel = CatalogGenerator.SentinelId;

    public static async Task FillCartAsync(HttpClient client, object selection)
    {
        await client.DeleteAsync("/api/order/basket");
        var response = await client.PostAsJsonAsync("/api/order/basket/selection", selection);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static async Task<JsonElement> CreateOrderAsync(HttpClient client, string? label)
    {
        var response = await client.PostAsJsonAsync("/api/user/orders", new { label });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Fills the cart with one selection, orders it (201, PENDING) and waits until the order is DONE.</summary>
    public static async Task<JsonElement> OrderUntilDoneAsync(HttpClient client, object selection, string label, int seconds = 30)
    {
        await FillCartAsync(client, selection);
        var created = await CreateOrderAsync(client, label);
        Assert.Equal("PENDING", created.Status());
        return await WaitForOrderAsync(client, created.Id(), o => o.Status() == "DONE", seconds);
    }

    public static async Task<JsonElement> GetOrderAsync(HttpClient client, long id) =>
        await client.GetFromJsonAsync<JsonElement>($"/api/user/orders/{id}");

    /// <summary>Polls the order until the condition holds (the engine works in the background).</summary>
    public static async Task<JsonElement> WaitForOrderAsync(HttpClient client, long id, Func<JsonElement, bool> condition, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        JsonElement order;
        do
        {
            order = await GetOrderAsync(client, id);
            if (condition(order))
            {
                return order;
            }
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"Order {id} did not reach the expected state: {order}");
    }

    public static async Task WaitAsync(Func<Task<bool>> condition, int seconds = 30, string? what = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(what ?? "Condition not reached");
            }
            await Task.Delay(100);
        }
    }

    public static string Status(this JsonElement order) => order.GetProperty("status").GetString()!;

    public static long Id(this JsonElement order) => order.GetProperty("id").GetInt64();

    public static string? Code(this JsonElement problem) => problem.TryGetProperty("code", out var code) ? code.GetString() : null;

    public static IReadOnlyList<string> Links(this JsonElement order) => order.GetProperty("links").EnumerateArray().Select(l => l.GetProperty("rel").GetString()!).ToList();
}
