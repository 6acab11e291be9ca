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
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).Content();
    }

    /// <summary>Fills the cart with one selection, orders it (201, PENDING) and waits until the order is DONE.</summary>
    public static async Task<JsonElement> OrderUntilDoneAsync(HttpClient client, object selection, string label, int seconds = 30)
    {
        await FillCartAsync(client, selection);
        var created = await CreateOrderAsync(client, label);
        Assert.Equal("PENDING", created.Status());
        return await WaitForOrderAsync(client, created.Id(), o => o.Status() == "DONE", seconds);
    }

    /// <summary>The order (the <c>content</c> of REGARDS' envelope).</summary>
    public static async Task<JsonElement> GetOrderAsync(HttpClient client, long id) => (await GetOrderModelAsync(client, id)).Content();

    /// <summary>The order in REGARDS' envelope: <c>{content, links}</c>.</summary>
    public static async Task<JsonElement> GetOrderModelAsync(HttpClient client, long id) =>
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

    /// <summary>The resource inside REGARDS' envelope.</summary>
    public static JsonElement Content(this JsonElement model) => model.GetProperty("content");

    /// <summary>The elements of a REGARDS page: each element's <c>content</c>.</summary>
    public static IReadOnlyList<JsonElement> Elements(this JsonElement page) => page.GetProperty("content").EnumerateArray().Select(e => e.GetProperty("content")).ToList();

    /// <summary>The resource itself, whether given bare or in its envelope.</summary>
    private static JsonElement Resource(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.Object ? c : e;

    public static string Status(this JsonElement order) => Resource(order).GetProperty("status").GetString()!;

    public static long Id(this JsonElement order) => Resource(order).GetProperty("id").GetInt64();

    public static string? Code(this JsonElement problem) => problem.TryGetProperty("code", out var code) ? code.GetString() : null;

    /// <summary>The rels of an envelope's links.</summary>
    public static IReadOnlyList<string> Links(this JsonElement model) => model.GetProperty("links").EnumerateArray().Select(l => l.GetProperty("rel").GetString()!).ToList();
}
