using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using System.Xml.Schema;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Regards.Portal.Catalog;
using Regards.Portal.Data;
using Regards.Portal.Downloads;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Downloads;

/// <summary>The orders API's fast engine, on real Kestrel, with a recognisable Retry-After.</summary>
public class DownloadsFactory : Orders.OrdersApiFactory
{
    public DownloadsFactory() : this(DatabaseProvider.Sqlite)
    {
    }

    protected DownloadsFactory(DatabaseProvider provider) : base(provider)
    {
        Settings["Downloads:RetryAfterSeconds"] = "7";
        StartKestrel();
    }

    public new sealed class OnPostgreSql() : DownloadsFactory(DatabaseProvider.PostgreSql);
}

/// <summary>Zip, metalink, tokens, single files, listings, quotas and e-mails over real HTTP on Kestrel, on each provider.</summary>
public abstract class DownloadsTests(DownloadsFactory factory)
{
    public sealed class OnSqlite(DownloadsFactory factory) : DownloadsTests(factory), IClassFixture<DownloadsFactory>;

    public sealed class OnPostgreSql(DownloadsFactory.OnPostgreSql factory) : DownloadsTests(factory), IClassFixture<DownloadsFactory.OnPostgreSql>;

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private async Task<(HttpClient Client, long OrderId)> DoneOrderAsync(string email, object selection, string label)
    {
        var client = await factory.CreateClientForAsync(email);
        return (client, (await OrderUntilDoneAsync(client, selection, label)).Id());
    }

    /// <summary>The order's files with bytes here (external quicklooks are URLs elsewhere: listed, never served).</summary>
    private async Task<List<OrderFile>> FilesAsync(long orderId)
    {
        await using var db = factory.CreateDbContext();
        return await db.OrderFiles.AsNoTracking().Where(f => f.OrderId == orderId && f.Tier != StorageTier.External).OrderBy(f => f.Id).ToListAsync();
    }

    private async Task<int> AllFilesCountAsync(long orderId)
    {
        await using var db = factory.CreateDbContext();
        return await db.OrderFiles.CountAsync(f => f.OrderId == orderId);
    }

    [Fact]
    public async Task The_zip_holds_every_available_file_byte_for_byte_and_marks_them_downloaded_after_the_last_byte()
    {
        var (client, orderId) = await DoneOrderAsync(DemoUsers.User, new { datasetId = Swot, q = "SSH_001_01" }, "zip-me");
        var files = await FilesAsync(orderId);
        Assert.NotEmpty(files);

        using var response = await client.GetAsync($"/api/user/orders/{orderId}/download", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType!.MediaType);
        Assert.Matches($@"order_{orderId}_\d{{14}}\.zip", response.Content.Headers.ContentDisposition!.FileName!.Trim('"'));
        // The body streams into Java's ZipInputStream through a pipe, as a REGARDS client reads it, and is kept for .NET.
        var bytes = new MemoryStream();
        var (code, output, errors) = await Tools.RunReaderAsync("java", $"{ZipReadersTests.JavaReader} --sha256 -", async javaInput =>
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                await javaInput.WriteAsync(buffer.AsMemory(0, read));
                bytes.Write(buffer, 0, read);
            }
        });
        Assert.True(code == 0, errors);
        var javaHashes = ZipReadersTests.Lines(output).Select(line => line.Split('\t')).Where(f => f[0] != "NOTICE.txt").Select(f => f[^1]);
        Assert.Equal(files.Select(f => f.Checksum!).Order(), javaHashes.Order());

        bytes.Position = 0;
        using var archive = new ZipArchive(bytes, ZipArchiveMode.Read);
        var hashes = new List<string>();
        foreach (var entry in archive.Entries.Where(e => e.Name != "NOTICE.txt"))
        {
            Assert.Equal(ZipReadersTests.DeflatedSize(entry.Length), entry.CompressedLength); // stored deflate blocks
            await using var stream = await entry.OpenAsync();
            hashes.Add(Convert.ToHexStringLower(await SHA256.HashDataAsync(stream)));
        }
        Assert.Equal(files.Select(f => f.Checksum!).Order(), hashes.Order());

        var after = await FilesAsync(orderId);
        Assert.All(after, f => Assert.Equal(OrderFileState.Downloaded, f.State));
        // Nothing left to zip: 204.
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync($"/api/user/orders/{orderId}/download")).StatusCode);
        var other = await factory.CreateClientForAsync(DemoUsers.Guest);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/user/orders/{orderId}/download")).StatusCode);
    }

    [Fact]
    public async Task The_zip_is_valid_for_unzip_and_renames_duplicates_and_explains_unreadable_files()
    {
        var (client, orderId) = await DoneOrderAsync(DemoUsers.User, new { datasetId = Swot, q = "SSH_001_01" }, "zip-dup");
        await using (var db = factory.CreateDbContext())
        {
            var ids = await db.OrderFiles.Where(f => f.OrderId == orderId).OrderBy(f => f.Id).Select(f => f.Id).Take(3).ToListAsync();
            await db.OrderFiles.Where(f => f.Id == ids[0] || f.Id == ids[1]).ExecuteUpdateAsync(s => s.SetProperty(f => f.Name, "same.nc"));
            await db.OrderFiles.Where(f => f.Id == ids[2]).ExecuteUpdateAsync(s => s.SetProperty(f => f.Location, "swot/missing-file.nc"));
        }
        var path = Path.Combine(factory.DataPath, $"dup-{orderId}.zip");
        await File.WriteAllBytesAsync(path, await client.GetByteArrayAsync($"/api/user/orders/{orderId}/download"));
        var (code, output) = await Tools.RunAsync("unzip", $"-l {path}");
        Assert.True(code == 0, output);
        Assert.Contains("same.nc", output);
        Assert.Contains("same (1).nc", output);
        Assert.Contains("NOTICE.txt", output);
        (code, output) = await Tools.RunAsync("unzip", $"-p {path} NOTICE.txt");
        Assert.Contains("could not be read", output);
        (code, output) = await Tools.RunAsync("unzip", $"-tq {path}");
        Assert.True(code == 0, output);
        // The unreadable file was not sent: it stays AVAILABLE.
        var files = await FilesAsync(orderId);
        Assert.Single(files, f => f.State == OrderFileState.Available);
    }

    private static string Md5(byte[] bytes) => Convert.ToHexStringLower(MD5.HashData(bytes));

    /// <summary>Every file of the order, in the metalink's order (dataset task, then id).</summary>
    private async Task<List<OrderFile>> AllFilesAsync(long orderId)
    {
        await using var db = factory.CreateDbContext();
        return await db.OrderFiles.AsNoTracking().Where(f => f.OrderId == orderId).OrderBy(f => f.DatasetTaskId).ThenBy(f => f.Id).ToListAsync();
    }

    [Fact]
    public async Task The_default_metalink_is_metalink_3_and_the_regards_downloader_reads_name_size_url_and_md5_of_every_file()
    {
        // Two datasets (two dataset tasks), online and nearline files.
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        await FillCartAsync(client, new { datasetId = Swot, q = "SSH_001_01" });
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/order/basket/selection", new { datasetId = Sentinel, q = "_0001" })).StatusCode);
        var orderId = (await CreateOrderAsync(client, "metalink")).Id();
        await WaitForOrderAsync(client, orderId, o => o.Status() == "DONE");
        var files = await AllFilesAsync(orderId);
        Assert.Equal(2, files.Select(f => f.DatasetTaskId).Distinct().Count());
        using var response = await client.GetAsync($"/api/user/orders/{orderId}/metalink/download");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // As REGARDS: no charset.
        Assert.Equal("application/metalink+xml", response.Content.Headers.ContentType!.ToString());
        // REGARDS' order_{id}_{time}.metalink, the time without the colons no Windows file name may hold.
        Assert.Matches($@"^order_{orderId}_\d{{4}}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.metalink$", response.Content.Headers.ContentDisposition!.FileName!.Trim('"'));

        var links = RegardsDownloaderParser.Parse(await response.Content.ReadAsStreamAsync());
        Assert.Equal(files.Count, links.Count);
        var baseUrl = client.BaseAddress!.ToString().TrimEnd('/');
        var anonymous = factory.CreateAnonymousClient();
        foreach (var (file, link) in files.Zip(links))
        {
            Assert.Equal(file.Name, link.Name);
            Assert.Equal(file.Size, link.Size);
            if (file.Tier == StorageTier.External)
            {
                Assert.Equal(file.Location, link.Url);
                continue;
            }
            Assert.StartsWith($"{baseUrl}/api/orders/public/files/{file.Id}?orderToken=", link.Url);
            // The hash the Downloader verifies is the MD5 (it ignores the xsd's "sha256" spelling): the catalog's, copied
            // at completion, and the MD5 of the bytes its URL serves without a session.
            Assert.Equal(("md5", file.Md5), (link.HashType, link.Hash));
            var bytes = await anonymous.GetByteArrayAsync(link.Url);
            Assert.Equal(file.Size, bytes.Length);
            Assert.Equal(file.Md5, Md5(bytes));
        }
        // Marked once each response completed on the server side.
        await WaitAsync(async () => (await FilesAsync(orderId)).All(f => f.State == OrderFileState.Downloaded), 5, "all files downloaded");
    }

    /// <summary>REGARDS' own schema (rs-order's metalink.xsd, copied byte for byte), with warnings reported.</summary>
    private static List<string> ValidateAgainstRegardsXsd(string document)
    {
        var schemas = new XmlSchemaSet();
        schemas.Add(null, Path.Combine(AppContext.BaseDirectory, "Downloads", "regards-metalink.xsd"));
        var settings = new XmlReaderSettings { ValidationType = ValidationType.Schema, Schemas = schemas, DtdProcessing = DtdProcessing.Prohibit };
        settings.ValidationFlags |= XmlSchemaValidationFlags.ReportValidationWarnings;
        var problems = new List<string>();
        settings.ValidationEventHandler += (_, e) => problems.Add($"{e.Severity} line {e.Exception.LineNumber}: {e.Message}");
        using var reader = XmlReader.Create(new StringReader(document), settings);
        while (reader.Read())
        {
        }
        return problems;
    }

    [Fact]
    public async Task The_metalink_3_documents_validate_against_regards_metalink_xsd_with_no_error_and_no_warning()
    {
        // The whole dataset: online files and external quicklooks (https links).
        var (client, orderId) = await DoneOrderAsync(DemoUsers.User, new { datasetId = Swot }, "metalink-xsd");
        var token = factory.Services.GetRequiredService<OrderTokens>().Create(orderId, DemoUsers.User, DateTime.UtcNow.AddDays(1));
        var documents = new[]
        {
            await client.GetStringAsync(MetalinkLinks.OfOrder(orderId, MetalinkFormat.V3)),
            await factory.CreateAnonymousClient().GetStringAsync(MetalinkLinks.Public("", token, MetalinkFormat.V3)),
        };
        foreach (var document in documents)
        {
            Assert.Empty(ValidateAgainstRegardsXsd(document));
            var urls = XDocument.Parse(document).Descendants(XName.Get("url", MetalinkWriter.V3Namespace)).ToList();
            Assert.Equal(await AllFilesCountAsync(orderId), urls.Count);
            // Both kinds of url, each with the type aria2 needs: internal (Kestrel: http) and external (https).
            Assert.Contains(urls, u => u.Attribute("type")!.Value == "http" && u.Value.Contains("&notReady=503"));
            Assert.Contains(urls, u => u.Attribute("type")!.Value == "https");
        }
        // The validator does catch a document that is not REGARDS' format.
        Assert.NotEmpty(ValidateAgainstRegardsXsd(await client.GetStringAsync($"/api/user/orders/{orderId}/metalink/download?format=v4")));
    }

    [Fact]
    public async Task Metalink_4_comes_with_format_v4_or_an_accept_header_and_lists_sha_256_and_md5()
    {
        var (client, orderId) = await DoneOrderAsync(DemoUsers.User, new { datasetId = Swot, q = "SSH_001_01" }, "metalink4");
        var files = await FilesAsync(orderId);
        var byAccept = new HttpRequestMessage(HttpMethod.Get, $"/api/user/orders/{orderId}/metalink/download");
        byAccept.Headers.Accept.ParseAdd("application/metalink4+xml");
        foreach (var request in new[] { new HttpRequestMessage(HttpMethod.Get, $"/api/user/orders/{orderId}/metalink/download?format=v4"), byAccept })
        {
            using var response = await client.SendAsync(request);
            Assert.Equal("application/metalink4+xml", response.Content.Headers.ContentType!.MediaType);
            Assert.Matches($@"^order_{orderId}_\d{{4}}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.meta4$", response.Content.Headers.ContentDisposition!.FileName!.Trim('"'));
            var doc = XDocument.Parse(await response.Content.ReadAsStringAsync());
            XNamespace ns = MetalinkWriter.V4Namespace;
            Assert.Equal(ns + "metalink", doc.Root!.Name);
            Assert.Equal(await AllFilesCountAsync(orderId), doc.Root.Elements(ns + "file").Count());
            foreach (var file in files)
            {
                var entry = doc.Root.Elements(ns + "file").Single(e => e.Element(ns + "url")!.Value.Contains($"/api/orders/public/files/{file.Id}?"));
                Assert.Equal(file.Name, entry.Attribute("name")!.Value);
                Assert.Equal(file.Size, long.Parse(entry.Element(ns + "size")!.Value));
                var hashes = entry.Elements(ns + "hash").ToDictionary(h => h.Attribute("type")!.Value, h => h.Value);
                Assert.Equal(new Dictionary<string, string> { ["sha-256"] = file.Checksum!, ["md5"] = file.Md5! }, hashes);
            }
        }
        // v3 by name too; anything else is refused; another user's order is not found.
        using var v3 = await client.GetAsync($"/api/user/orders/{orderId}/metalink/download?format=v3");
        Assert.Equal("application/metalink+xml", v3.Content.Headers.ContentType!.MediaType);
        Assert.Equal(XName.Get("metalink", MetalinkWriter.V3Namespace), XDocument.Parse(await v3.Content.ReadAsStringAsync()).Root!.Name);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/api/user/orders/{orderId}/metalink/download?format=v9")).StatusCode);
        var guest = await factory.CreateClientForAsync(DemoUsers.Guest);
        Assert.Equal(HttpStatusCode.NotFound, (await guest.GetAsync($"/api/user/orders/{orderId}/metalink/download")).StatusCode);
    }

    [Fact]
    public async Task Public_tokens_open_their_own_order_only_and_refuse_forged_truncated_expired_and_foreign_ones()
    {
        var (client, orderA) = await DoneOrderAsync(DemoUsers.User, new { datasetId = Swot, q = "SSH_001_01" }, "token-a");
        var (_, orderB) = await DoneOrderAsync(DemoUsers.User, new { datasetId = Swot, q = "SSH_001_00" }, "token-b");
        var tokens = factory.Services.GetRequiredService<OrderTokens>();
        var tokenA = tokens.Create(orderA, DemoUsers.User, DateTime.UtcNow.AddDays(1));
        var fileA = (await FilesAsync(orderA))[0];
        var fileB = (await FilesAsync(orderB))[0];
        var anonymous = factory.CreateAnonymousClient();
        string Url(long fileId, string token) => $"/api/orders/public/files/{fileId}?orderToken={Uri.EscapeDataString(token)}";

        using (var bytes = await anonymous.GetAsync(Url(fileA.Id, tokenA)))
        {
            Assert.Equal(HttpStatusCode.OK, bytes.StatusCode);
            // The route runs as soon as it is matched (ShortCircuit): what comes before routing still applies.
            Assert.Equal("nosniff", bytes.Headers.GetValues("X-Content-Type-Options").Single());
        }
        // ...and its refusals are still ProblemDetails with a code: thrown (the exception handler), or written (416).
        var beyond = new HttpRequestMessage(HttpMethod.Get, Url(fileA.Id, tokenA));
        beyond.Headers.Range = new RangeHeaderValue(fileA.Size + 10, null);
        using (var unsatisfiable = await anonymous.SendAsync(beyond))
        {
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);
            Assert.Equal($"bytes */{fileA.Size}", unsatisfiable.Content.Headers.ContentRange!.ToString());
            Assert.Equal("RANGE_NOT_SATISFIABLE", (await unsatisfiable.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
        // Same owner, other order: not found, never bytes.
        using (var other = await anonymous.GetAsync(Url(fileB.Id, tokenA)))
        {
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
            Assert.Equal("NOT_FOUND", (await other.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
        var forged = tokenA[..^4] + (tokenA[^4] == 'A' ? "BBBB" : "AAAA");
        var foreign = new EphemeralDataProtectionProvider().CreateProtector("Regards.Portal.Downloads.OrderToken.v1").Protect($"{orderB}\n{DemoUsers.User}\n{DateTime.UtcNow.AddDays(1).Ticks}");
        var expired = tokens.Create(orderA, DemoUsers.User, DateTime.UtcNow.AddMinutes(-1));
        foreach (var bad in new[] { forged, tokenA[..(tokenA.Length / 2)], expired, foreign, "", "not-a-token" })
        {
            var response = await anonymous.GetAsync(Url(fileA.Id, bad));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.NotEqual("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/user/orders/metalink/download?orderToken={Uri.EscapeDataString(bad)}")).StatusCode);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/orders/public/files/{fileA.Id}")).StatusCode);
        // A token of another owner's order naming this owner does not exist: the owner is part of the signed payload.
        var wrongOwner = tokens.Create(orderA, DemoUsers.Guest, DateTime.UtcNow.AddDays(1));
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(Url(fileA.Id, wrongOwner))).StatusCode);
        // The public metalink with token A lists order A.
        var meta = await anonymous.GetStringAsync($"/api/user/orders/metalink/download?orderToken={Uri.EscapeDataString(tokenA)}");
        Assert.Contains(fileA.Checksum!, meta);
        Assert.DoesNotContain(fileB.Checksum!, meta);
        // Deleted order: its tokens open nothing.
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/api/user/orders/{orderA}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(Url(fileA.Id, tokenA))).StatusCode);
    }

    [Fact]
    public async Task Single_files_answer_ranges_etags_head_and_mark_downloaded_at_the_last_byte()
    {
        var (client, orderId) = await DoneOrderAsync(DemoUsers.User, new { datasetId = Swot, q = "SSH_001_01" }, "ranges");
        var file = (await FilesAsync(orderId)).OrderByDescending(f => f.Size).First();
        var url = $"/api/orders/files/{file.Id}";

        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, url));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(file.Size, head.Content.Headers.ContentLength);
        Assert.Equal("bytes", head.Headers.AcceptRanges.Single());
        Assert.Equal($"\"{file.Checksum}\"", head.Headers.ETag!.Tag);
        Assert.Equal(file.Name, head.Content.Headers.ContentDisposition!.FileNameStar);
        Assert.Equal(OrderFileState.Available, (await FilesAsync(orderId)).Single(f => f.Id == file.Id).State);

        var first = new HttpRequestMessage(HttpMethod.Get, url);
        first.Headers.Range = new RangeHeaderValue(0, 99);
        using var part = await client.SendAsync(first);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal($"bytes 0-99/{file.Size}", part.Content.Headers.ContentRange!.ToString());
        var start = await part.Content.ReadAsByteArrayAsync();
        Assert.Equal(100, start.Length);
        Assert.Equal(OrderFileState.Available, (await FilesAsync(orderId)).Single(f => f.Id == file.Id).State);

        // Resume from byte 100 with If-Range on the right ETag: 206 to the last byte, then DOWNLOADED.
        var rest = new HttpRequestMessage(HttpMethod.Get, url);
        rest.Headers.Range = new RangeHeaderValue(100, null);
        rest.Headers.IfRange = new RangeConditionHeaderValue(head.Headers.ETag);
        using var restResponse = await client.SendAsync(rest);
        Assert.Equal(HttpStatusCode.PartialContent, restResponse.StatusCode);
        var whole = start.Concat(await restResponse.Content.ReadAsByteArrayAsync()).ToArray();
        Assert.Equal(file.Checksum, Sha256(whole));
        await WaitAsync(async () => (await FilesAsync(orderId)).Single(f => f.Id == file.Id).State == OrderFileState.Downloaded, 5);

        // If-Range with a stale validator: the whole file.
        var stale = new HttpRequestMessage(HttpMethod.Get, url);
        stale.Headers.Range = new RangeHeaderValue(100, null);
        stale.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue("\"old\""));
        using var full = await client.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal(file.Size, (await full.Content.ReadAsByteArrayAsync()).Length);

        var beyond = new HttpRequestMessage(HttpMethod.Get, url);
        beyond.Headers.Range = new RangeHeaderValue(file.Size + 10, null);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, (await client.SendAsync(beyond)).StatusCode);
        var guest = await factory.CreateClientForAsync(DemoUsers.Guest);
        Assert.Equal(HttpStatusCode.NotFound, (await guest.GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.CreateAnonymousClient().GetAsync(url)).StatusCode);

        // A file whose stored bytes are gone (the storage opens it without asking first): a 404 with its code, and the
        // file stays AVAILABLE.
        var lost = (await FilesAsync(orderId)).First(f => f.Id != file.Id && f.State == OrderFileState.Available);
        var stored = Directory.EnumerateFiles(factory.DataPath, "*", SearchOption.AllDirectories)
            .Single(p => p.Replace('\\', '/').EndsWith("/" + lost.Location.Replace('\\', '/'), StringComparison.Ordinal));
        File.Move(stored, stored + ".away");
        try
        {
            using var gone = await client.GetAsync($"/api/orders/files/{lost.Id}");
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
            Assert.Equal("NOT_FOUND", (await gone.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
            Assert.Equal(OrderFileState.Available, (await FilesAsync(orderId)).Single(f => f.Id == lost.Id).State);
        }
        finally
        {
            File.Move(stored + ".away", stored);
        }
    }

    [Fact]
    public async Task Pending_files_answer_202_or_503_to_get_and_head_with_retry_headers_and_files_in_error_422()
    {
        var (client, orderId) = await DoneOrderAsync(DemoUsers.User, new { datasetId = Swot, q = "SSH_001_01" }, "not-ready");
        var files = await FilesAsync(orderId);
        await using (var db = factory.CreateDbContext())
        {
            await db.OrderFiles.Where(f => f.Id == files[0].Id).ExecuteUpdateAsync(s => s.SetProperty(f => f.State, OrderFileState.Pending));
            await db.OrderFiles.Where(f => f.Id == files[1].Id).ExecuteUpdateAsync(s => s.SetProperty(f => f.State, OrderFileState.Error).SetProperty(f => f.DownloadError, "tape unreadable"));
        }
        using var pending = await client.GetAsync($"/api/orders/files/{files[0].Id}");
        Assert.Equal(HttpStatusCode.Accepted, pending.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), pending.Headers.RetryAfter!.Delta);
        Assert.Equal("7000", pending.Headers.GetValues("X-regards-retry").Single());
        Assert.Empty(await pending.Content.ReadAsByteArrayAsync());

        var token = factory.Services.GetRequiredService<OrderTokens>().Create(orderId, DemoUsers.User, DateTime.UtcNow.AddDays(1));
        var notReady503 = $"/api/orders/public/files/{files[0].Id}?orderToken={Uri.EscapeDataString(token)}&notReady=503";
        using var unavailable = await factory.CreateAnonymousClient().GetAsync(notReady503);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
        Assert.NotNull(unavailable.Headers.RetryAfter);
        // The REGARDS Downloader checks a link with a HEAD first: the same 503, which it retries.
        using var head = await factory.CreateAnonymousClient().SendAsync(new HttpRequestMessage(HttpMethod.Head, notReady503));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, head.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), head.Headers.RetryAfter!.Delta);

        using var error = await client.GetAsync($"/api/orders/files/{files[1].Id}");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, error.StatusCode);
        var problem = await error.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("FILE_IN_ERROR", problem.Code());
        Assert.Contains("tape unreadable", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Listings_are_paged_and_checked_for_ownership()
    {
        var (client, orderId) = await DoneOrderAsync(DemoUsers.User, new { datasetId = Swot, q = "SSH_001_01" }, "listing");
        var order = await GetOrderAsync(client, orderId);
        var taskId = order.GetProperty("datasetTasks")[0].GetProperty("id").GetInt64();
        var page = await client.GetFromJsonAsync<JsonElement>($"/api/orders/{orderId}/dataset/{taskId}/files?page=0&size=1");
        Assert.Equal(order.GetProperty("filesCount").GetInt32(), page.GetProperty("metadata").GetProperty("totalElements").GetInt32());
        var row = page.Elements()[0];
        Assert.Equal("AVAILABLE", row.GetProperty("state").GetString());
        Assert.Equal(1, row.GetProperty("subOrder").GetInt32());
        Assert.Equal($"{client.BaseAddress!.GetLeftPart(UriPartial.Authority)}/api/orders/files/{row.GetProperty("id").GetInt64()}", row.GetProperty("downloadUrl").GetString());
        var available = await client.GetFromJsonAsync<JsonElement>($"/api/orders/{orderId}/files/available");
        Assert.Equal(order.GetProperty("filesCount").GetInt32(), available.GetProperty("content").GetArrayLength());

        var guest = await factory.CreateClientForAsync(DemoUsers.Guest);
        Assert.Equal(HttpStatusCode.NotFound, (await guest.GetAsync($"/api/orders/{orderId}/dataset/{taskId}/files")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await guest.GetAsync($"/api/orders/{orderId}/files/available")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/orders/{orderId}/dataset/{taskId + 100000}/files")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/api/orders/{orderId}/files/available?size=5000")).StatusCode);
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/orders/{orderId}/files/available")).StatusCode);
    }

    [Fact]
    public async Task Ten_parallel_downloads_under_a_quota_of_one_serve_exactly_one()
    {
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        var (client, orderId) = await DoneOrderAsync(DemoUsers.Guest, new { datasetId = Swot, q = "SSH_001_01" }, "quota race");
        var raw = (await FilesAsync(orderId)).Where(f => f.DataType == DataType.RawData).Take(10).ToList();
        Assert.True(raw.Count >= 5);
        try
        {
            for (var round = 0; round < 3; round++)
            {
                Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/orders/quotas/{DemoUsers.Guest}", new { maxDownloads = 1, maxConcurrentDownloads = -1, resetCount = true })).StatusCode);
                var answers = await Task.WhenAll(raw.Select(f => client.GetAsync($"/api/orders/files/{f.Id}")));
                Assert.Single(answers, a => a.StatusCode == HttpStatusCode.OK);
                Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.OK), a => Assert.Equal(HttpStatusCode.TooManyRequests, a.StatusCode));
                Assert.Equal(1, (await client.GetFromJsonAsync<JsonElement>("/api/user/quota")).GetProperty("downloadsCount").GetInt32());
            }
        }
        finally
        {
            await admin.PutAsJsonAsync($"/api/orders/quotas/{DemoUsers.Guest}", new { maxDownloads = -1, maxConcurrentDownloads = -1, resetCount = true });
        }
    }

    [Fact]
    public async Task Parallel_zips_under_a_quota_hold_no_more_raw_files_than_it_allows_in_all()
    {
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        var (client, orderId) = await DoneOrderAsync(DemoUsers.Guest, new { datasetId = Swot, q = "SSH_001_01" }, "zip quota race");
        var raw = (await FilesAsync(orderId)).Where(f => f.DataType == DataType.RawData).Select(f => f.Name).ToHashSet();
        Assert.True(raw.Count >= 4);
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/orders/quotas/{DemoUsers.Guest}", new { maxDownloads = 3, maxConcurrentDownloads = -1, resetCount = true })).StatusCode);
            // Each zip checked the remaining quota at its start and counted at its end: both held 3 raw files.
            var answers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => client.GetAsync($"/api/user/orders/{orderId}/download")));
            // A zip that starts once the others used the quota up is refused outright.
            Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
            var served = 0;
            foreach (var answer in answers.Where(a => a.StatusCode == HttpStatusCode.OK))
            {
                using var archive = new ZipArchive(new MemoryStream(await answer.Content.ReadAsByteArrayAsync()));
                served += archive.Entries.Count(e => raw.Contains(e.Name));
            }
            Assert.Equal(3, served);
            Assert.Equal(3, (await client.GetFromJsonAsync<JsonElement>("/api/user/quota")).GetProperty("downloadsCount").GetInt32());
        }
        finally
        {
            await admin.PutAsJsonAsync($"/api/orders/quotas/{DemoUsers.Guest}", new { maxDownloads = -1, maxConcurrentDownloads = -1, resetCount = true });
        }
    }

    [Fact]
    public async Task Quotas_refuse_with_429_and_cut_the_zip_with_a_notice()
    {
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        var (client, orderId) = await DoneOrderAsync(DemoUsers.Guest, new { datasetId = Swot, q = "SSH_001_01" }, "quota");
        var raw = (await FilesAsync(orderId)).Where(f => f.DataType == DataType.RawData).ToList();
        Assert.True(raw.Count >= 2);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/orders/quotas/{DemoUsers.Guest}", new { maxDownloads = 1, maxConcurrentDownloads = -1, resetCount = true })).StatusCode);
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/orders/files/{raw[0].Id}")).StatusCode);
            using var refused = await client.GetAsync($"/api/orders/files/{raw[1].Id}");
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal("DOWNLOAD_QUOTA_EXCEEDED", (await refused.Content.ReadFromJsonAsync<JsonElement>()).Code());

            Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/orders/quotas/{DemoUsers.Guest}", new { maxDownloads = 2, maxConcurrentDownloads = -1, resetCount = true })).StatusCode);
            var zip = await client.GetByteArrayAsync($"/api/user/orders/{orderId}/download");
            using var archive = new ZipArchive(new MemoryStream(zip));
            var notice = archive.GetEntry("NOTICE.txt");
            Assert.NotNull(notice);
            using var reader = new StreamReader(await notice.OpenAsync());
            Assert.Contains("quota", await reader.ReadToEndAsync());
            Assert.Equal(2, archive.Entries.Count(e => raw.Any(r => r.Name == e.Name)));
            Assert.Equal(2, (await client.GetFromJsonAsync<JsonElement>("/api/user/quota")).GetProperty("downloadsCount").GetInt32());

            Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/orders/quotas/{DemoUsers.Guest}", new { maxDownloads = -1, maxConcurrentDownloads = 0, resetCount = true })).StatusCode);
            using var busy = await client.GetAsync($"/api/orders/files/{raw[0].Id}");
            Assert.Equal(HttpStatusCode.TooManyRequests, busy.StatusCode);
            Assert.NotNull(busy.Headers.RetryAfter);
            Assert.Equal(HttpStatusCode.BadRequest, (await admin.PutAsJsonAsync($"/api/orders/quotas/{DemoUsers.Guest}", new { maxDownloads = -5, maxConcurrentDownloads = -1, resetCount = false })).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.PutAsJsonAsync($"/api/orders/quotas/{DemoUsers.Guest}", new { maxDownloads = -1, maxConcurrentDownloads = -1, resetCount = true })).StatusCode);
        }
        finally
        {
            await admin.PutAsJsonAsync($"/api/orders/quotas/{DemoUsers.Guest}", new { maxDownloads = -1, maxConcurrentDownloads = -1, resetCount = true });
        }
    }

    [Fact]
    public async Task The_order_created_mail_lands_in_the_pickup_folder_with_a_working_metalink_link()
    {
        var (_, orderId) = await DoneOrderAsync(DemoUsers.User, new { datasetId = Swot, q = "SSH_001_01" }, "mail-me");
        var folder = Path.Combine(factory.DataPath, "mail-pickup");
        string? mail = null;
        await WaitAsync(async () =>
        {
            foreach (var path in Directory.Exists(folder) ? Directory.GetFiles(folder, "*.eml") : [])
            {
                var message = await MimeKit.MimeMessage.LoadAsync(path);
                if (message.Subject!.Contains("\"mail-me\" created"))
                {
                    mail = message.TextBody;
                    return true;
                }
            }
            return false;
        }, 10, "order created mail");
        var link = System.Text.RegularExpressions.Regex.Match(mail!, @"http://localhost:5080(/api/user/orders/metalink/download\?orderToken=\S+)").Groups[1].Value;
        Assert.NotEmpty(link);
        Assert.Contains("/orders", mail);
        // The clients that read the mailed document (Metalink 3): the REGARDS Downloader and aria2.
        Assert.Contains("REGARDS Downloader", mail);
        Assert.Contains("aria2c -M", mail);
        Assert.DoesNotContain(".meta4", mail);
        var links = RegardsDownloaderParser.Parse(await factory.CreateAnonymousClient().GetStreamAsync(link));
        Assert.Equal(await AllFilesCountAsync(orderId), links.Count);
    }
}
