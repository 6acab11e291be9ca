using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Regards.Portal.Tests.Infrastructure;
using Xunit.Abstractions;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Security;

/// <summary>
/// quality.md §4 "authorization matrix": every endpoint of the API and of the downloads × every kind of caller,
/// each cell with the exact status of api.md; a refused cell answers a ProblemDetails with a <c>code</c> and
/// leaves every row of the order, cart and user tables as it was.
/// </summary>
public sealed class AuthorizationMatrixTests(SecurityFactory factory, ITestOutputHelper output) : IClassFixture<SecurityFactory>
{
    private sealed record Request(HttpMethod Method, string Url, HttpContent? Body = null);

    /// <summary>One row of the matrix: the endpoint, the expected status per caller, and the request a caller sends.</summary>
    private sealed record Row(string Endpoint, Func<Who, int> Expected, Func<Who, Task<Request>> Build, Func<Who, HttpResponseMessage, Task<string?>>? Verify = null)
    {
        /// <summary>Background work a success starts that the next cell must not see (files marked downloaded after the response).</summary>
        public Func<Task>? AfterSuccess { get; init; }
    }

    private static readonly Who[] Callers = Enum.GetValues<Who>();

    // ---- expected codes (api.md): the caller kinds each endpoint admits ------------------------------------

    /// <summary>"anyone signed in" / "user": any session; tokens are no session.</summary>
    private static Func<Who, int> SignedIn(int ok) => who => SecurityFactory.IsSession(who) ? ok : 401;

    /// <summary>"owner or admin": someone else's order is hidden (404).</summary>
    private static Func<Who, int> OwnerOrAdmin(int ok) => who => who switch
    {
        Who.Owner or Who.Admin or Who.ProjectAdmin => ok,
        Who.OtherUser => 404,
        _ => 401,
    };

    /// <summary>The owner's own cart: any other session has its own cart, where that selection does not exist.</summary>
    private static Func<Who, int> OwnCart(int ok) => who => who switch
    {
        Who.Owner => ok,
        Who.OtherUser or Who.Admin or Who.ProjectAdmin => 404,
        _ => 401,
    };

    /// <summary>"admin": a user is signed in but not allowed (403).</summary>
    private static Func<Who, int> AdminOnly(int ok) => who => who switch
    {
        Who.Admin or Who.ProjectAdmin => ok,
        Who.OtherUser or Who.Owner => 403,
        _ => 401,
    };

    /// <summary>"public token": a session is no token (401); an expired token is 401.</summary>
    private static Func<Who, int> PublicToken(int thisOrder, int otherOrder) => who => who switch
    {
        Who.TokenOfThisOrder => thisOrder,
        Who.TokenOfOtherOrder => otherOrder,
        _ => 401,
    };

    private static Func<Who, Task<Request>> Fixed(HttpMethod method, string url, Func<HttpContent?>? body = null) =>
        _ => Task.FromResult(new Request(method, url, body?.Invoke()));

    private static HttpContent Json(object value) => JsonContent.Create(value);

    private static bool Succeeds(Func<Who, int> expected, Who who) => expected(who) < 400;

    private IEnumerable<Row> Rows()
    {
        var a = factory.OrderA;
        var get = HttpMethod.Get;
        var put = HttpMethod.Put;
        var post = HttpMethod.Post;
        var delete = HttpMethod.Delete;

        // Identity: open to everyone, refuses bad credentials the same way for all. One unknown address per call: the
        // callers share a client address, which is paused on an address after 5 failures (Security/SignInLockoutTests).
        yield return new("POST /api/identity/login (unknown account)", _ => 401,
            Fixed(post, "/api/identity/login", () => Json(new { email = $"nobody-{Guid.NewGuid():N}@regards.local", password = "Wrong!Password1" })));
        yield return new("POST /api/identity/refresh (forged token)", _ => 401,
            Fixed(post, "/api/identity/refresh", () => Json(new { refreshToken = "forged" })));

        // Operations: open to all (load balancers and monitors call them without a session).
        yield return new("GET /health", _ => 200, Fixed(get, "/health"));
        yield return new("GET /health/ready", _ => 200, Fixed(get, "/health/ready"));
        yield return new("GET /openapi/v1.json", _ => 200, Fixed(get, "/openapi/v1.json"));

        // Catalog.
        yield return new("GET /api/catalog/datasets", SignedIn(200), Fixed(get, "/api/catalog/datasets"));
        yield return new("GET /api/catalog/search", SignedIn(200), Fixed(get, $"/api/catalog/search?datasetId={Uri.EscapeDataString(Swot)}&size=5"));

        // Cart: each session works on its own cart; the owner's selection ids are invisible to the others.
        async Task<(long Selection, string Date)> Carts(Who who, int ownerDatasets = 2)
        {
            var owner = await factory.EnsureCartAsync(Who.Owner, ownerDatasets);
            if (SecurityFactory.IsSession(who) && who != Who.Owner)
            {
                await factory.EnsureCartAsync(who);
            }
            return owner;
        }
        yield return new("GET /api/order/basket", SignedIn(200), async who =>
        {
            if (SecurityFactory.IsSession(who))
            {
                await factory.EnsureCartAsync(who);
            }
            return new Request(get, "/api/order/basket");
        });
        yield return new("POST /api/order/basket/selection", SignedIn(200), Fixed(post, "/api/order/basket/selection", () => Json(SecurityFactory.Selection)));
        yield return new("POST /api/order/basket/selection/upload", SignedIn(200), Fixed(post, "/api/order/basket/selection/upload", () =>
        {
            var file = new ByteArrayContent(Encoding.UTF8.GetBytes(factory.ProviderId + "\n"));
            file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
            return new MultipartFormDataContent { { file, "file", "ids.txt" } };
        }));
        yield return new("DELETE /api/order/basket/dataset/{dsSelId}", OwnCart(200), async who =>
            new Request(delete, $"/api/order/basket/dataset/{(await Carts(who)).Selection}"));
        yield return new("DELETE /api/order/basket/dataset/{dsSelId}/{itemsSelectionDate}", OwnCart(200), async who =>
        {
            var (selection, date) = await Carts(who);
            return new Request(delete, $"/api/order/basket/dataset/{selection}/{Uri.EscapeDataString(date)}");
        });
        yield return new("PUT /api/order/basket/dataset/{dsSelId}/updateFileFilters", OwnCart(200), async who =>
            new Request(put, $"/api/order/basket/dataset/{(await Carts(who)).Selection}/updateFileFilters"));
        yield return new("PUT /api/order/basket/dataset/{dsSelId}/updateProcessing", OwnCart(200), async who =>
            new Request(put, $"/api/order/basket/dataset/{(await Carts(who)).Selection}/updateProcessing"));
        yield return new("PUT /api/order/basket/dataset/{dsSelId}/updateProcessing (choice)", OwnCart(200), async who =>
            new Request(put, $"/api/order/basket/dataset/{(await Carts(who)).Selection}/updateProcessing",
                Json(new { processBusinessId = "compress", parameters = new { level = "fastest" } })));

        // Processing catalogue: users list it; admins set it up and see its usage.
        yield return new("GET /api/processing", SignedIn(200), Fixed(get, "/api/processing"));
        yield return new("GET /api/admin/processing", AdminOnly(200), Fixed(get, "/api/admin/processing"));
        yield return new("GET /api/admin/processing/usage", AdminOnly(200), Fixed(get, "/api/admin/processing/usage"));
        yield return new("PUT /api/admin/processing/{id}", AdminOnly(200),
            Fixed(put, "/api/admin/processing/subset", () => Json(new { enabled = true, minimumRole = "REGISTERED_USER" })));

        yield return new("DELETE /api/order/basket", SignedIn(204), async who =>
        {
            await Carts(who);
            return new Request(delete, "/api/order/basket");
        });

        // Orders: creation from the caller's own (filled) cart.
        var serial = 0;
        string Label(string what) => $"matrix-{what}-{++serial}";
        yield return new("POST /api/user/orders", SignedIn(201), async who =>
        {
            await Carts(who, 1);
            return new Request(post, "/api/user/orders", Json(new { label = Label("create") }));
        });
        yield return new("POST /api/orders (application order)", AdminOnly(201), async who =>
        {
            await Carts(who, 1);
            return new Request(post, "/api/orders", Json(new { label = Label("app") }));
        });
        yield return new("GET /api/user/orders", SignedIn(200), Fixed(get, "/api/user/orders?page=0&size=5"));
        yield return new("GET /api/user/orders/{id}", OwnerOrAdmin(200), Fixed(get, $"/api/user/orders/{a}"));
        // Order A is DONE: whoever may see it gets past the access check to the state rule (409).
        yield return new("PUT /api/user/orders/pause/{id}", OwnerOrAdmin(409), Fixed(put, $"/api/user/orders/pause/{a}"));
        yield return new("PUT /api/user/orders/resume/{id}", OwnerOrAdmin(409), Fixed(put, $"/api/user/orders/resume/{a}"));
        yield return new("PUT /api/user/orders/{id}/retry", OwnerOrAdmin(409), Fixed(put, $"/api/user/orders/{a}/retry"));
        var deletes = OwnerOrAdmin(200);
        yield return new("DELETE /api/user/orders/{id}", deletes, who =>
            Task.FromResult(new Request(delete, $"/api/user/orders/{(Succeeds(deletes, who) ? factory.TakeDoneVictim() : a)}")),
            async (_, response) => (await response.Content.ReadFromJsonAsync<JsonElement>()).Status() == "DELETED" ? null : "status is not DELETED");
        // The owner sees the deleted order but is no admin: 403.
        Func<Who, int> removes = who => who switch
        {
            Who.Admin or Who.ProjectAdmin => 200,
            Who.Owner => 403,
            Who.OtherUser => 404,
            _ => 401,
        };
        yield return new("DELETE /api/user/orders/remove/{id}", removes, who =>
            Task.FromResult(new Request(delete, $"/api/user/orders/remove/{(Succeeds(removes, who) ? factory.TakeDeletedVictim() : factory.DeletedOrder)}")));
        yield return new("POST /api/user/orders/{id}/restart", OwnerOrAdmin(201), who =>
            Task.FromResult(new Request(post, $"/api/user/orders/{a}/restart", Json(new { label = Label("restart") }))));
        yield return new("POST /api/orders/search", AdminOnly(200), Fixed(post, "/api/orders/search?page=0&size=5", () => Json(new { })));
        yield return new("POST /api/orders/csv", AdminOnly(200), Fixed(post, "/api/orders/csv", () => Json(new { owner = "nobody@regards.local" })));
        yield return new("GET /api/orders/csv", AdminOnly(200), Fixed(get, "/api/orders/csv?owner=nobody%40regards.local"));
        yield return new("GET /api/orders/owners", AdminOnly(200), Fixed(get, "/api/orders/owners?q=user"));
        yield return new("PUT /api/orders/{id}/expiration", AdminOnly(200), Fixed(put, $"/api/orders/{a}/expiration", () => Json(new { expirationDate = DateTime.UtcNow.AddDays(60) })));
        yield return new("PUT /api/orders/quotas/{email}", AdminOnly(200), Fixed(put, $"/api/orders/quotas/{DemoUsers.Guest}", () => Json(new { maxDownloads = -1, maxConcurrentDownloads = -1, resetCount = false })));
        yield return new("GET /api/user/quota", SignedIn(200), Fixed(get, "/api/user/quota"));

        // Downloads.
        // Order A's files are made AVAILABLE before each download, so every allowed caller has bytes to get.
        Func<Who, Task<Request>> Fresh(HttpMethod method, string url) => async _ =>
        {
            await factory.ResetFilesOfAAsync();
            return new Request(method, url);
        };
        yield return new("GET /api/user/orders/{id}/download", OwnerOrAdmin(200), Fresh(get, $"/api/user/orders/{a}/download")) { AfterSuccess = factory.WaitFileADownloadedAsync };
        yield return new("GET /api/user/orders/{id}/metalink/download", OwnerOrAdmin(200), Fixed(get, $"/api/user/orders/{a}/metalink/download"));
        // A token opens its own order's metalink (no order in the path): the other order's token gets order B, never A.
        yield return new("GET /api/user/orders/metalink/download?orderToken=", PublicToken(200, 200), Fixed(get, "/api/user/orders/metalink/download"),
            async (who, response) =>
            {
                var body = await response.Content.ReadAsStringAsync();
                var (mine, notMine) = who == Who.TokenOfThisOrder ? (factory.FileA, factory.FileB) : (factory.FileB, factory.FileA);
                return body.Contains($"/public/files/{mine}?") && !body.Contains($"/public/files/{notMine}?") ? null : "the metalink is not of the token's order";
            });
        // The download script lists the same files as the metalink, with the same token rules.
        yield return new("GET /api/user/orders/{id}/script/download", OwnerOrAdmin(200), Fixed(get, $"/api/user/orders/{a}/script/download"));
        yield return new("GET /api/user/orders/script/download?orderToken=", PublicToken(200, 200), Fixed(get, "/api/user/orders/script/download"),
            async (who, response) =>
            {
                var body = await response.Content.ReadAsStringAsync();
                var (mine, notMine) = who == Who.TokenOfThisOrder ? (factory.FileA, factory.FileB) : (factory.FileB, factory.FileA);
                return body.Contains($"/public/files/{mine}?") && !body.Contains($"/public/files/{notMine}?") ? null : "the script is not of the token's order";
            });
        yield return new("GET /api/orders/{orderId}/dataset/{datasetTaskId}/files", OwnerOrAdmin(200), Fixed(get, $"/api/orders/{a}/dataset/{factory.TaskA}/files"));
        yield return new("GET /api/orders/{orderId}/files/available", OwnerOrAdmin(200), async _ =>
        {
            await factory.ResetFilesOfAAsync();
            return new Request(get, $"/api/orders/{a}/files/available");
        });
        yield return new("GET /api/orders/files/{fileId}", OwnerOrAdmin(200), Fresh(get, $"/api/orders/files/{factory.FileA}")) { AfterSuccess = factory.WaitFileADownloadedAsync };
        yield return new("HEAD /api/orders/files/{fileId}", OwnerOrAdmin(200), Fixed(HttpMethod.Head, $"/api/orders/files/{factory.FileA}"));
        // File A with the other order's token: not in the token's order (404), never bytes.
        yield return new("GET /api/orders/public/files/{fileId}?orderToken=", PublicToken(200, 404), Fresh(get, $"/api/orders/public/files/{factory.FileA}")) { AfterSuccess = factory.WaitFileADownloadedAsync };
        yield return new("HEAD /api/orders/public/files/{fileId}?orderToken=", PublicToken(200, 404), Fixed(HttpMethod.Head, $"/api/orders/public/files/{factory.FileA}"));
    }

    [Fact]
    public async Task Every_endpoint_answers_every_caller_with_the_specified_code_and_refusals_write_nothing()
    {
        var mismatches = new List<string>();
        var cells = 0;
        var rows = 0;
        // The snapshot does see the rows a refused call could change.
        var start = await factory.SettleAsync();
        Assert.Contains($"Id={factory.OrderA}|", start);
        Assert.Contains($"Id={factory.FileA}|", start);
        Assert.Contains("## BasketItemSelections", start);
        foreach (var row in Rows())
        {
            rows++;
            foreach (var who in Callers)
            {
                cells++;
                var expected = row.Expected(who);
                var request = await row.Build(who);
                if (factory.Token(who) is { } token)
                {
                    request = request with { Url = request.Url + (request.Url.Contains('?') ? '&' : '?') + "orderToken=" + Uri.EscapeDataString(token) };
                }
                var before = await factory.SnapshotAsync();
                using var message = new HttpRequestMessage(request.Method, request.Url) { Content = request.Body };
                using var response = await factory.ClientOf(who).SendAsync(message);
                var actual = (int)response.StatusCode;
                var cell = $"{row.Endpoint} × {who}";
                if (actual != expected)
                {
                    mismatches.Add($"{cell}: expected {expected}, got {actual} {Excerpt(await response.Content.ReadAsStringAsync())}");
                }
                if (actual >= 400 && request.Method != HttpMethod.Head && await ProblemCodeAsync(response) is null)
                {
                    mismatches.Add($"{cell}: {actual} without a ProblemDetails `code`");
                }
                if (actual is >= 200 and < 300 && row.Verify is not null && await row.Verify(who, response) is { } wrong)
                {
                    mismatches.Add($"{cell}: {wrong}");
                }
                if (actual >= 400 || expected >= 400)
                {
                    var after = await factory.SnapshotAsync();
                    if (after != before)
                    {
                        mismatches.Add($"{cell}: a refused call changed rows ({SecurityFactory.Difference(before, after)})");
                        await factory.SettleAsync();
                    }
                }
                else
                {
                    if (row.AfterSuccess is { } wait)
                    {
                        await wait();
                    }
                    await factory.SettleAsync();
                }
            }
        }
        output.WriteLine($"Authorization matrix: {rows} endpoints × {Callers.Length} callers = {cells} cells; {mismatches.Count} mismatches.");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {cells} cells are wrong:\n" + string.Join('\n', mismatches));
        Assert.Equal(rows * Callers.Length, cells);
    }

    private static async Task<string?> ProblemCodeAsync(HttpResponseMessage response)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return null;
        }
        try
        {
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).Code();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Excerpt(string body) => body.Length > 200 ? body[..200] + "…" : body;
}
