using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bunit;
using CsvHelper;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Identity;
using Regards.Portal.Orders.Components;
using Regards.Portal.Tests.Infrastructure;
using Xunit.Abstractions;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Security;

/// <summary>
/// quality.md §4 "bad input everywhere": malformed and mistyped JSON, huge bodies, unknown enum values, bad paging,
/// path-like ids — each a 4xx ProblemDetails with a <c>code</c> and no row written; user text (labels) is data:
/// neutralised in the CSV, returned verbatim in JSON, encoded in HTML.
/// </summary>
public sealed class BadInputTests(SecurityFactory factory, ITestOutputHelper output) : IClassFixture<SecurityFactory>
{
    /// <summary>A bad request: caller, verb, path (placeholders {A} order A, {T} its task, {F} its file, {S} the owner's cart selection), JSON body.</summary>
    public sealed record BadCase(string Name, Who Who, string Method, string Path, string? Json, int Status, string? Code = null)
    {
        public override string ToString() => Name;
    }

    private const string Broken = "{\"label\": \"x\", ";

    public static TheoryData<BadCase> MalformedJson => new()
    {
        new("create order, truncated JSON", Who.Owner, "POST", "/api/user/orders", Broken, 400, "BAD_REQUEST"),
        new("create order, not JSON", Who.Owner, "POST", "/api/user/orders", "label=x", 400, "BAD_REQUEST"),
        new("application order, truncated JSON", Who.Admin, "POST", "/api/orders", Broken, 400, "BAD_REQUEST"),
        new("cart selection, truncated JSON", Who.Owner, "POST", "/api/order/basket/selection", "{\"datasetId\": ", 400, "BAD_REQUEST"),
        new("restart, truncated JSON", Who.Owner, "POST", "/api/user/orders/{A}/restart", Broken, 400, "BAD_REQUEST"),
        new("search, truncated JSON", Who.ProjectAdmin, "POST", "/api/orders/search", "{\"owner\": [", 400, "BAD_REQUEST"),
        new("csv, truncated JSON", Who.ProjectAdmin, "POST", "/api/orders/csv", "{\"owner\"", 400, "BAD_REQUEST"),
        new("expiration, truncated JSON", Who.ProjectAdmin, "PUT", "/api/orders/{A}/expiration", "{\"expirationDate\": \"2030-01-01", 400, "BAD_REQUEST"),
        new("quotas, truncated JSON", Who.ProjectAdmin, "PUT", $"/api/orders/quotas/{DemoUsers.Guest}", "{\"maxDownloads\": 1,", 400, "BAD_REQUEST"),
        new("file filters, truncated JSON", Who.Owner, "PUT", "/api/order/basket/dataset/{S}/updateFileFilters", "{\"fileTypes\": [", 400, "BAD_REQUEST"),
        new("processing, truncated JSON", Who.Owner, "PUT", "/api/order/basket/dataset/{S}/updateProcessing", "{\"processBusinessId\"", 400, "BAD_REQUEST"),
        new("login, truncated JSON", Who.Anonymous, "POST", "/api/identity/login", "{\"email\": \"a@b\"", 400, "BAD_REQUEST"),
    };

    public static TheoryData<BadCase> WrongTypes => new()
    {
        new("label is a number", Who.Owner, "POST", "/api/user/orders", "{\"label\": 123}", 400, "BAD_REQUEST"),
        new("label is an array", Who.Owner, "POST", "/api/user/orders", "{\"label\": [\"x\"]}", 400, "BAD_REQUEST"),
        new("restart label is an object", Who.Owner, "POST", "/api/user/orders/{A}/restart", "{\"label\": {}}", 400, "BAD_REQUEST"),
        new("datasetId is a number", Who.Owner, "POST", "/api/order/basket/selection", "{\"datasetId\": 42}", 400, "BAD_SELECTION"),
        new("includeIds is a string", Who.Owner, "POST", "/api/order/basket/selection", "{\"includeIds\": \"x\"}", 400, "BAD_SELECTION"),
        new("from is not a date", Who.Owner, "POST", "/api/order/basket/selection", "{\"from\": \"yesterday\"}", 400, "BAD_DATE"),
        new("statuses is a string", Who.ProjectAdmin, "POST", "/api/orders/search", "{\"statuses\": \"DONE\"}", 400, "BAD_REQUEST"),
        new("creation date is not a date", Who.ProjectAdmin, "POST", "/api/orders/search", "{\"creationDate\": {\"after\": \"soon\"}}", 400, "BAD_REQUEST"),
        new("waitingForUser is a string", Who.ProjectAdmin, "POST", "/api/orders/csv", "{\"waitingForUser\": \"yes\"}", 400, "BAD_REQUEST"),
        new("expiration is not a date", Who.ProjectAdmin, "PUT", "/api/orders/{A}/expiration", "{\"expirationDate\": \"tomorrow\"}", 400, "BAD_REQUEST"),
        new("expiration is missing", Who.ProjectAdmin, "PUT", "/api/orders/{A}/expiration", "{}", 400, "BAD_EXPIRATION"),
        new("quota is a string", Who.ProjectAdmin, "PUT", $"/api/orders/quotas/{DemoUsers.Guest}", "{\"maxDownloads\": \"lots\", \"maxConcurrentDownloads\": -1, \"resetCount\": false}", 400, "BAD_REQUEST"),
        new("file types is a string", Who.Owner, "PUT", "/api/order/basket/dataset/{S}/updateFileFilters", "{\"fileTypes\": \"RAWDATA\"}", 400, "BAD_REQUEST"),
        new("processing id is a number", Who.Owner, "PUT", "/api/order/basket/dataset/{S}/updateProcessing", "{\"processBusinessId\": 5}", 400, "BAD_REQUEST"),
        new("processing id is null", Who.Owner, "PUT", "/api/order/basket/dataset/{S}/updateProcessing", "{\"processBusinessId\": null}", 400, "BAD_PROCESSING"),
        new("processing id is empty", Who.Owner, "PUT", "/api/order/basket/dataset/{S}/updateProcessing", "{\"processBusinessId\": \"\", \"parameters\": {}}", 400, "BAD_PROCESSING"),
        new("selection from after to", Who.Owner, "POST", "/api/order/basket/selection", "{\"from\": \"2020-01-01T00:00:00Z\", \"to\": \"2010-01-01T00:00:00Z\"}", 400, "BAD_DATE_RANGE"),
        new("login fields are not strings", Who.Anonymous, "POST", "/api/identity/login", "{\"email\": 1, \"password\": true}", 400, "BAD_REQUEST"),
    };

    public static TheoryData<BadCase> UnknownValues => new()
    {
        new("status filter FOO", Who.ProjectAdmin, "POST", "/api/orders/search", "{\"statuses\": {\"values\": [\"FOO\"]}}", 400),
        new("status filter mode SOMETIMES", Who.ProjectAdmin, "POST", "/api/orders/search", "{\"statuses\": {\"values\": [\"DONE\"], \"mode\": \"SOMETIMES\"}}", 400),
        new("csv status filter FOO", Who.ProjectAdmin, "POST", "/api/orders/csv", "{\"statuses\": {\"values\": [\"FOO\"]}}", 400),
        new("csv link status FOO", Who.ProjectAdmin, "GET", "/api/orders/csv?statuses=FOO", null, 400, "BAD_FILTER"),
        new("search sort on a hidden column", Who.ProjectAdmin, "POST", "/api/orders/search?sort=password", "{}", 400),
        new("search sort direction sideways", Who.ProjectAdmin, "POST", "/api/orders/search?sort=label,sideways", "{}", 400),
        new("catalog sort unknown", Who.Owner, "GET", "/api/catalog/search?sort=nope", null, 400),
        new("metalink format v9", Who.Owner, "GET", "/api/user/orders/{A}/metalink/download?format=v9", null, 400, "BAD_FORMAT"),
        new("file type FOO", Who.Owner, "PUT", "/api/order/basket/dataset/{S}/updateFileFilters", "{\"fileTypes\": [\"FOO\"]}", 400),
        new("file name pattern is a bad regex", Who.Owner, "PUT", "/api/order/basket/dataset/{S}/updateFileFilters", "{\"fileTypes\": [], \"fileNamePattern\": \"([\"}", 400),
        new("item selection date is not a date", Who.Owner, "DELETE", "/api/order/basket/dataset/{S}/not-a-date", null, 400, "BAD_DATE"),
        new("dataset of the selection unknown", Who.Owner, "POST", "/api/order/basket/selection", "{\"datasetId\": \"URN:AIP:DATASET:nope\"}", 404, "NOT_FOUND"),
        new("unknown API path", Who.Owner, "GET", "/api/no-such-thing", null, 404, "NOT_FOUND"),
        new("unknown verb on an order", Who.Owner, "PATCH", "/api/user/orders/{A}", "{\"status\": \"DONE\"}", 405, "METHOD_NOT_ALLOWED"),
    };

    public static TheoryData<BadCase> BadPaging
    {
        get
        {
            var data = new TheoryData<BadCase>();
            string[] pagings = ["page=-1", "size=-5", "size=0", "size=100000", "size=1001", "page=2147483647&size=1000", "page=abc", "size=99999999999"];
            (string Name, Who Who, string Method, string Path, string? Json)[] lists =
            [
                ("my orders", Who.Owner, "GET", "/api/user/orders", null),
                ("catalog search", Who.Owner, "GET", "/api/catalog/search", null),
                ("available files", Who.Owner, "GET", "/api/orders/{A}/files/available", null),
                ("dataset task files", Who.Owner, "GET", "/api/orders/{A}/dataset/{T}/files", null),
                ("admin search", Who.ProjectAdmin, "POST", "/api/orders/search", "{}"),
            ];
            foreach (var (name, who, method, path, json) in lists)
            {
                foreach (var paging in pagings)
                {
                    data.Add(new BadCase($"{name} ?{paging}", who, method, $"{path}?{paging}", json, 400));
                }
            }
            return data;
        }
    }

    /// <summary>Ids that try to name a path: routes take numbers only and the store names come from the catalog.</summary>
    public static TheoryData<BadCase> PathLikeIds => new()
    {
        new("file ../../etc/passwd (escaped slashes)", Who.Owner, "GET", "/api/orders/files/..%2F..%2Fetc%2Fpasswd", null, 404, "NOT_FOUND"),
        new("file %2e%2e%2f", Who.Owner, "GET", "/api/orders/files/%2e%2e%2f%2e%2e%2fetc%2fpasswd", null, 404, "NOT_FOUND"),
        new("file id not numeric", Who.Owner, "GET", "/api/orders/files/abc", null, 404, "NOT_FOUND"),
        new("file id decimal", Who.Owner, "GET", "/api/orders/files/1.5", null, 404, "NOT_FOUND"),
        new("file id negative", Who.Owner, "GET", "/api/orders/files/-1", null, 404, "NOT_FOUND"),
        new("file id beyond long", Who.Owner, "GET", "/api/orders/files/99999999999999999999", null, 404, "NOT_FOUND"),
        new("public file ../ with a valid token", Who.TokenOfThisOrder, "GET", "/api/orders/public/files/..%2F..%2Fappsettings.json", null, 404, "NOT_FOUND"),
        new("public file %2e%2e%2f with a valid token", Who.TokenOfThisOrder, "GET", "/api/orders/public/files/%2e%2e%2fetc%2fpasswd", null, 404, "NOT_FOUND"),
        new("order id path-like", Who.Owner, "GET", "/api/user/orders/..%2F..%2Fetc%2Fpasswd/download", null, 404, "NOT_FOUND"),
        new("order id not numeric", Who.Owner, "DELETE", "/api/user/orders/abc", null, 404, "NOT_FOUND"),
        new("task id path-like", Who.Owner, "GET", "/api/orders/{A}/dataset/..%2F..%2Fetc/files", null, 404, "NOT_FOUND"),
        new("cart selection id path-like", Who.Owner, "DELETE", "/api/order/basket/dataset/..%2F..%2Fetc", null, 404, "NOT_FOUND"),
        new("quota of a path-like user", Who.ProjectAdmin, "PUT", "/api/orders/quotas/..%2F..%2Fetc%2Fpasswd", "{\"maxDownloads\": -1, \"maxConcurrentDownloads\": -1, \"resetCount\": true}", 404, "NOT_FOUND"),
    };

    [Theory]
    [MemberData(nameof(MalformedJson))]
    public Task Malformed_json_is_a_400_problem_and_writes_nothing(BadCase bad) => AssertRefusedAsync(bad);

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public Task Wrong_json_types_are_a_400_problem_and_write_nothing(BadCase bad) => AssertRefusedAsync(bad);

    [Theory]
    [MemberData(nameof(UnknownValues))]
    public Task Unknown_enum_values_and_names_are_a_4xx_problem_and_write_nothing(BadCase bad) => AssertRefusedAsync(bad);

    [Theory]
    [MemberData(nameof(BadPaging))]
    public Task Negative_zero_and_huge_paging_is_a_400_problem(BadCase bad) => AssertRefusedAsync(bad);

    [Theory]
    [MemberData(nameof(PathLikeIds))]
    public Task Path_like_ids_are_a_404_problem_and_never_a_file(BadCase bad) => AssertRefusedAsync(bad);

    [Fact]
    public async Task A_wrong_content_type_is_a_415_problem_and_writes_nothing()
    {
        await factory.EnsureCartAsync(Who.Owner);
        await AssertRefusedAsync(Who.Owner, HttpMethod.Post, "/api/user/orders",
            new StringContent("{\"label\": \"as text\"}", Encoding.UTF8, "text/plain"), 415, null);
    }

    [Fact]
    public async Task Huge_bodies_are_refused_with_a_problem_and_write_nothing()
    {
        await factory.EnsureCartAsync(Who.Owner);
        var tenMegabytes = new string('x', 10 * 1024 * 1024);
        await AssertRefusedAsync(Who.Owner, HttpMethod.Post, "/api/user/orders", JsonContent.Create(new { label = tenMegabytes }), 422, "LABEL_TOO_LONG");
        await AssertRefusedAsync(Who.Owner, HttpMethod.Post, $"/api/user/orders/{factory.OrderA}/restart", JsonContent.Create(new { label = tenMegabytes }), 422, "LABEL_TOO_LONG");
        await factory.EnsureCartAsync(Who.Admin);
        await AssertRefusedAsync(Who.Admin, HttpMethod.Post, "/api/orders", JsonContent.Create(new { label = tenMegabytes }), 422, "LABEL_TOO_LONG");
        // An empty cart does not hide the bad label behind a 204.
        await factory.Session(Who.OtherUser).DeleteAsync("/api/order/basket");
        await AssertRefusedAsync(Who.OtherUser, HttpMethod.Post, "/api/user/orders", JsonContent.Create(new { label = tenMegabytes }), 422, "LABEL_TOO_LONG");

        var lines = new StringBuilder();
        while (lines.Length < 2 * 1024 * 1024)
        {
            lines.Append(factory.ProviderId).Append('\n');
        }
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(lines.ToString()));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        await AssertRefusedAsync(Who.Owner, HttpMethod.Post, "/api/order/basket/selection/upload", new MultipartFormDataContent { { file, "file", "ids.txt" } }, 413, "TOO_MANY_LINES");
    }

    [Fact]
    public async Task Formula_labels_are_neutralised_in_the_csv_export()
    {
        string[] formulas = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-1+1", "@SUM(A1:A2)", " =1+1"];
        var owner = factory.Session(Who.Owner);
        var ids = new Dictionary<long, string>();
        foreach (var formula in formulas)
        {
            await FillCartAsync(owner, SecurityFactory.Selection);
            var order = await CreateOrderAsync(owner, formula);
            Assert.Equal(formula.Trim(), order.GetProperty("label").GetString());
            ids[order.Id()] = formula.Trim();
        }
        await factory.SettleAsync();
        var admin = factory.Session(Who.ProjectAdmin);
        var posted = await admin.PostAsJsonAsync("/api/orders/csv", new { owner = DemoUsers.User });
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        foreach (var text in new[] { await posted.Content.ReadAsStringAsync(), await admin.GetStringAsync($"/api/orders/csv?owner={Uri.EscapeDataString(DemoUsers.User)}") })
        {
            var labels = await LabelsByIdAsync(text);
            foreach (var (id, label) in ids)
            {
                var cell = labels[id];
                output.WriteLine($"{label} -> {cell}");
                Assert.False(cell.Length > 0 && "=+-@\t\r".Contains(cell[0]), $"CSV cell of order {id} starts a formula: {cell}");
                Assert.EndsWith(label, cell);
                Assert.True(cell.Length - label.Length <= 1, $"only a neutralising prefix may be added: {cell}");
            }
            // Every raw line too: no cell of the file begins a formula after the separator.
            foreach (var formula in ids.Values)
            {
                Assert.DoesNotContain(";" + formula, text);
                Assert.DoesNotContain(";\"" + formula, text);
            }
        }
    }

    [Fact]
    public async Task Markup_in_a_label_is_stored_and_returned_as_text_and_rendered_encoded()
    {
        const string markup = "<script>alert(1)</script>";
        var owner = factory.Session(Who.Owner);
        await FillCartAsync(owner, SecurityFactory.Selection);
        var created = await owner.PostAsJsonAsync("/api/user/orders", new { label = markup });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        // Data in a JSON string (never a document a browser would render), the very text once parsed.
        Assert.Equal("application/json", created.Content.Headers.ContentType?.MediaType);
        var order = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.Content();
        Assert.Equal(markup, order.GetProperty("label").GetString());
        var id = order.Id();
        Assert.Equal(markup, (await GetOrderAsync(owner, id)).GetProperty("label").GetString());
        await using (var db = factory.CreateDbContext())
        {
            Assert.Equal(markup, await db.Orders.Where(o => o.Id == id).Select(o => o.Label).SingleAsync());
        }
        await factory.SettleAsync();

        // The order's page, rendered on the server for this user: the label is there, HTML-encoded, never markup.
        using var page = await owner.GetAsync($"/orders/{id}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain(markup, html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);

        // The My-orders list (loaded after the first render, so not in the server-rendered HTML): the rendered row.
        await using var ctx = ComponentTestContext.Create(factory, DemoUsers.User, PortalRoles.RegisteredUser);
        var myOrders = ctx.Render<MyOrdersPage>();
        myOrders.WaitForAssertion(() => Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", myOrders.Markup), TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(markup, myOrders.Markup);
        Assert.DoesNotContain(myOrders.FindAll("script"), e => e.TextContent.Contains("alert(1)"));
    }

    // ---- the check every refusal goes through --------------------------------------------------------------

    private async Task AssertRefusedAsync(BadCase bad)
    {
        var path = bad.Path
            .Replace("{A}", factory.OrderA.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Replace("{T}", factory.TaskA.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Replace("{F}", factory.FileA.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // The owner's cart is full, so that a request that wrongly went through would have something to write.
        var (selection, _) = await factory.EnsureCartAsync(Who.Owner);
        path = path.Replace("{S}", selection.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (factory.Token(bad.Who) is { } token)
        {
            path += (path.Contains('?') ? "&" : "?") + "orderToken=" + Uri.EscapeDataString(token);
        }
        var body = bad.Json is null ? null : new StringContent(bad.Json, Encoding.UTF8, "application/json");
        await AssertRefusedAsync(bad.Who, new HttpMethod(bad.Method), path, body, bad.Status, bad.Code);
    }

    private async Task AssertRefusedAsync(Who who, HttpMethod method, string path, HttpContent? body, int status, string? code)
    {
        var before = await factory.SettleAsync();
        using var request = new HttpRequestMessage(method, path) { Content = body };
        using var response = await factory.ClientOf(who).SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        output.WriteLine($"{method} {request.RequestUri} -> {(int)response.StatusCode} {(text.Length > 300 ? text[..300] : text)}");
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        var actualCode = problem.Code();
        Assert.False(string.IsNullOrEmpty(actualCode), "a ProblemDetails `code` is required");
        if (code is not null)
        {
            Assert.Equal(code, actualCode);
        }
        var after = await factory.SnapshotAsync();
        Assert.True(before == after, "a refused call changed rows: " + SecurityFactory.Difference(before, after));
    }

    private static async Task<Dictionary<long, string>> LabelsByIdAsync(string csv)
    {
        await using var reader = CsvReader.Create(new StringReader(csv), new CsvReaderOptions { Separator = ';' });
        var labels = new Dictionary<long, string>();
        await foreach (var record in reader)
        {
            labels[long.Parse(record[0].ToString(), System.Globalization.CultureInfo.InvariantCulture)] = record[Array.IndexOf(Regards.Portal.Orders.OrderCsvExporter.Header, "LABEL")].ToString();
        }
        return labels;
    }
}
