using System.Security.Cryptography;
using System.Text;
using Bunit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Regards.Portal.Downloads;
using Regards.Portal.Identity;
using Regards.Portal.Orders;
using Regards.Portal.Orders.Components;
using Regards.Portal.Storage;
using Regards.Portal.Tests.Infrastructure;
using Regards.Portal.Tests.Orders;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Downloads;

/// <summary>
/// A nearline order in several sub-orders under the default throttle (2), Retry-After 1 s; a tape restore takes 2 s, longer
/// than curl takes the files of a sub-order, so the script meets files not restored yet.
/// </summary>
public sealed class DownloadScriptFactory() : NearlineDownloadFactory("00:00:02");

/// <summary>
/// The order's download script (README "Downloading an order with a standard client") run by real bash and real curl
/// against the portal on real Kestrel.
/// </summary>
public sealed class DownloadScriptTests(DownloadScriptFactory factory) : IClassFixture<DownloadScriptFactory>
{
    /// <summary>Quotes, dollars, back-quotes, a command substitution and a new line (which the portal's names drop).</summary>
    private const string AwkwardName = "it's a \"quoted\" $HOME `touch pwned1` $(touch pwned2) 'x'\nname.nc";

    /// <summary>
    /// The script of the link My orders renders, fetched with the user's bearer token, run while most files are still
    /// on tape: files answer 503 + Retry-After until restored, and the throttle restores the next sub-orders only as the
    /// script downloads. It ends with every file there, checked against its SHA-256, and exit 0; run again, it keeps them.
    /// </summary>
    [Fact]
    public async Task The_script_waits_for_a_nearline_order_downloads_every_file_checks_it_and_keeps_awkward_names()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        await RenameOneCatalogFileAsync(Sentinel, AwkwardName);
        await FillCartAsync(client, new { datasetId = Sentinel });
        var label = "script-nearline";
        var order = await CreateOrderAsync(client, label);
        await WaitForOrderAsync(client, order.Id(), o => o.Status() == "RUNNING");

        string href;
        await using (var ctx = ComponentTestContext.Create(factory, DemoUsers.User, PortalRoles.RegisteredUser))
        {
            var page = ctx.Render<MyOrdersPage>();
            page.WaitForAssertion(() => MyOrdersComponentTests.Row(page, label), TimeSpan.FromSeconds(10));
            href = MyOrdersComponentTests.Row(page, label).QuerySelector("[data-testid=order-script]")!.GetAttribute("href")!;
        }
        Assert.Equal(DownloadScriptLinks.OfOrder(order.Id()), href);
        var folder = NewFolder("nearline");
        var script = await SaveScriptAsync(client, href, folder);

        List<OrderFile> files;
        await using (var db = factory.CreateDbContext())
        {
            Assert.True(await db.SubOrders.CountAsync(s => s.OrderId == order.Id()) > 2, "more sub-orders than the throttle lets stage at once");
            files = await db.OrderFiles.AsNoTracking().Where(f => f.OrderId == order.Id()).ToListAsync();
        }
        Assert.Contains(files, f => f.State == OrderFileState.Pending);
        Assert.All(files, f => Assert.NotNull(f.Checksum));

        var (code, output) = await RunBashAsync($"{script} out", folder, timeoutSeconds: 240);
        Assert.True(code == 0, output);
        // It did meet files still being restored, and waited for them.
        Assert.True(output.Contains("not ready: ", StringComparison.Ordinal), output);
        Assert.Contains($"All {files.Count} files downloaded and checked", output);
        // The names of the metalink and the zip: control characters dropped (the new line), the rest kept as it is.
        Assert.Contains(files, f => f.Name == AwkwardName);
        string Local(OrderFile f) => f.Name.Replace("\n", "");
        var expectedNames = files.Select(Local).ToList();
        foreach (var file in files)
        {
            var path = Path.Combine(folder, "out", Local(file));
            Assert.True(File.Exists(path), $"{Local(file)} missing:\n{output}");
            Assert.Equal(file.Checksum, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(path))));
            Assert.Contains($"ok: {Local(file)} (SHA-256 checked)", output);
        }
        // Exactly the order's files: no ".part" left, and nothing the awkward name tried to run.
        Assert.Equal(expectedNames.Order(), Directory.GetFiles(Path.Combine(folder, "out")).Select(Path.GetFileName).Order());
        Assert.False(File.Exists(Path.Combine(folder, "pwned1")) || File.Exists(Path.Combine(folder, "pwned2")) || File.Exists(Path.Combine(folder, "out", "pwned2")));

        // Run again: every file is there with its size, nothing is downloaded twice.
        (code, output) = await RunBashAsync($"{script} out", folder, timeoutSeconds: 60);
        Assert.True(code == 0, output);
        Assert.Equal(files.Count, output.Split('\n').Count(l => l.StartsWith("kept: ", StringComparison.Ordinal)));
    }

    /// <summary>A file whose bytes on the portal's disk no longer match its SHA-256: the script says so, removes it, and fails.</summary>
    [Fact]
    public async Task A_file_corrupted_on_the_portal_disk_makes_the_script_exit_non_zero_naming_the_checksum_mismatch()
    {
        var generator = factory.Services.GetRequiredService<Regards.Portal.Catalog.CatalogGenerator>();
        var datasetId = await generator.AddBenchmarkDatasetAsync(3, 1, 40_000, metadataOnly: false, datasetId: "URN:AIP:DATASET:script-corrupt");
        string corruptName;
        await using (var db = factory.CreateDbContext())
        {
            var victim = await db.DataFiles.Where(f => f.DataObject!.DatasetId == datasetId).OrderBy(f => f.Id).FirstAsync();
            corruptName = victim.Name;
            var root = factory.Services.GetRequiredService<IOptions<StorageOptions>>().Value.Root;
            var path = LocalDiskStorage.SafeCombine(Path.GetFullPath(root), victim.Location);
            var bytes = await File.ReadAllBytesAsync(path);
            bytes[100] ^= 0xFF; // same size, other bytes
            await File.WriteAllBytesAsync(path, bytes);
        }
        var client = await factory.CreateClientForAsync(DemoUsers.Guest);
        var order = await OrderUntilDoneAsync(client, new { datasetId }, "script-corrupt");
        var folder = NewFolder("corrupt");
        var script = await SaveScriptAsync(client, DownloadScriptLinks.OfOrder(order.Id()), folder);

        var (code, output) = await RunBashAsync($"{script} out", folder, timeoutSeconds: 120);
        Assert.Equal(1, code);
        Assert.Contains($"MISSING: {corruptName}: CHECKSUM MISMATCH: SHA-256 ", output);
        Assert.Contains("2 of 3 files downloaded and checked; 1 missing", output);
        Assert.False(File.Exists(Path.Combine(folder, "out", corruptName)));
        Assert.False(File.Exists(Path.Combine(folder, "out", corruptName + ".part")));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(folder, "out")).Length);
    }

    /// <summary>The public link (no session), and a script cut short in its download: it runs nothing and says so.</summary>
    [Fact]
    public async Task The_public_link_gives_the_script_and_a_truncated_script_downloads_nothing()
    {
        var generator = factory.Services.GetRequiredService<Regards.Portal.Catalog.CatalogGenerator>();
        var datasetId = await generator.AddBenchmarkDatasetAsync(5, 1, 1000, metadataOnly: false, datasetId: "URN:AIP:DATASET:script-public");
        // Another user than the other tests': this order's files, left waiting, hold that user's two preparation slots.
        var client = await factory.CreateClientForAsync(DemoUsers.Admin);
        var order = await OrderUntilDoneAsync(client, new { datasetId }, "script-public");
        var token = factory.Services.GetRequiredService<OrderTokens>().Create(order.Id(), DemoUsers.Admin, DateTime.UtcNow.AddDays(1));
        using var anonymous = factory.CreateAnonymousClient();
        using var response = await anonymous.GetAsync(DownloadScriptLinks.Public("", token));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal("text/x-shellscript", response.Content.Headers.ContentType!.MediaType);
        Assert.Matches(@"^order_\d+_.*\.sh$", response.Content.Headers.ContentDisposition!.FileName!.Trim('"'));
        var text = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("#!/usr/bin/env bash\n", text);

        var folder = NewFolder("truncated");
        var cut = text[..text.LastIndexOf("\nf ", StringComparison.Ordinal)] + "\n";
        await File.WriteAllTextAsync(Path.Combine(folder, "cut.sh"), cut);
        var (code, output) = await RunBashAsync("cut.sh out", folder, timeoutSeconds: 30);
        Assert.Equal(3, code);
        Assert.Contains("incomplete", output);
        Assert.False(Directory.Exists(Path.Combine(folder, "out")));

        using var tampered = await anonymous.GetAsync(DownloadScriptLinks.Public("", token + "x"));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, tampered.StatusCode);
        using var forged = await anonymous.GetAsync(DownloadScriptLinks.Public("", token[..^2]));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, forged.StatusCode);
    }

    /// <summary>
    /// Files that never become ready, and one that is gone, against a small server of their own: the script asks again
    /// as Retry-After says, gives up after REGARDS_MAX_ROUNDS rounds without a new file, and names each missing file
    /// with its reason (the rounds carry the files still to do from one list to the next).
    /// </summary>
    [Fact]
    public async Task The_script_gives_up_on_files_never_ready_and_names_each_missing_file()
    {
        var asked = 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        await using var server = builder.Build();
        server.MapGet("/ok", () => Results.Text("hello"));
        server.MapGet("/gone", () => Results.NotFound());
        server.MapGet("/later", (HttpContext c) =>
        {
            Interlocked.Increment(ref asked);
            c.Response.Headers.RetryAfter = "1";
            return Results.StatusCode(503);
        });
        await server.StartAsync();
        var root = server.Urls.First();

        var folder = NewFolder("giveup");
        await using (var file = File.Create(Path.Combine(folder, "s.sh")))
        {
            var writer = new DownloadScriptWriter(file);
            await writer.StartAsync(1, "give up", DateTime.UtcNow, null, CancellationToken.None);
            await writer.WriteFileAsync(new MetalinkEntry("ok.nc", 5, null, Convert.ToHexStringLower(SHA256.HashData("hello"u8)), null, $"{root}/ok"), CancellationToken.None);
            await writer.WriteFileAsync(new MetalinkEntry("later.nc", 5, null, null, null, $"{root}/later"), CancellationToken.None);
            await writer.WriteFileAsync(new MetalinkEntry("gone.nc", 5, null, null, null, $"{root}/gone"), CancellationToken.None);
            await writer.EndAsync(CancellationToken.None);
        }
        var (code, output) = await RunBashAsync("-c \"REGARDS_MAX_ROUNDS=1 exec bash s.sh out\"", folder, timeoutSeconds: 60);

        Assert.True(code == 1, $"exit {code}: {output}");
        Assert.Contains("ok: ok.nc (SHA-256 checked)", output);
        Assert.Contains("Giving up: 1 waits in a row without a new file.", output);
        Assert.Contains("MISSING: gone.nc: not found (HTTP 404): the order or the file is gone", output);
        Assert.Contains("MISSING: later.nc: still being prepared when the script gave up (run it again later)", output);
        Assert.Contains("1 of 3 files downloaded and checked; 2 missing (listed above).", output);
        Assert.True(asked >= 3, $"the file not ready was asked {asked} times:\n{output}");
        Assert.Equal(["ok.nc"], Directory.GetFiles(Path.Combine(folder, "out")).Select(Path.GetFileName));
    }

    /// <summary>
    /// A million-file order is a million file lines: the script writes each to a list on disk as bash reads it, and holds
    /// no file list in bash arrays. 100,000 lines (about 40 MB of script) are read within 16 MB of bash heap
    /// (<c>ulimit -d</c>); arrays of them need several times that.
    /// </summary>
    [Fact]
    public async Task The_script_reads_its_file_lines_without_holding_the_list_in_memory()
    {
        const int count = 100_000;
        var folder = NewFolder("large");
        var token = new string('t', 200);
        await using (var file = File.Create(Path.Combine(folder, "large.sh")))
        {
            var writer = new DownloadScriptWriter(file);
            await writer.StartAsync(1, "large", DateTime.UtcNow, null, CancellationToken.None);
            for (var i = 0; i < count; i++)
            {
                var hash = Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i)));
                await writer.WriteFileAsync(new MetalinkEntry($"SWOT_L2_LR_SSH_001_010_20230905_{i:D7}.nc", 1000 + i, null, hash, hash[..32],
                    $"http://localhost:1/api/user/orders/files/{Guid.NewGuid()}?orderToken={token}"), CancellationToken.None);
            }
            await writer.EndAsync(CancellationToken.None);
        }
        Assert.True(new FileInfo(Path.Combine(folder, "large.sh")).Length > 35_000_000);
        // "out" is a file, so the script stops at making its folder (exit 1): after reading every file line, before any download.
        await File.WriteAllTextAsync(Path.Combine(folder, "out"), "");

        var (code, output) = await RunBashAsync("-c \"mkdir tmp && export TMPDIR=$PWD/tmp && ulimit -d 16384 && exec bash large.sh out/files\"", folder, timeoutSeconds: 300);
        Assert.True(code == 1, $"exit {code}: {output}");
        Assert.Contains("mkdir", output);
        Assert.DoesNotContain("incomplete", output);
        Assert.DoesNotContain("lists", output);
        // Its temporary list is gone.
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(folder, "tmp")));
    }

    [Theory]
    [InlineData("plain.nc")]
    [InlineData("it's")]
    [InlineData("'")]
    [InlineData("''\\''")]
    [InlineData("$HOME `id` $(id) ${x:-y} \"q\" \\ ! * ? ~ ; & | < > # %")]
    [InlineData("line one\nline two\r\t")]
    [InlineData("-rf")]
    public async Task Quoting_gives_bash_back_the_exact_text(string value)
    {
        var folder = NewFolder("quote");
        await File.WriteAllTextAsync(Path.Combine(folder, "q.sh"), "printf '%s' " + DownloadScriptWriter.Quote(value) + "\n", new UTF8Encoding(false));
        var (code, output) = await RunBashAsync("q.sh", folder, timeoutSeconds: 30);
        Assert.Equal(0, code);
        Assert.Equal(value, output);
    }

    /// <summary>bash in <paramref name="folder"/>, killed with its curls when late (a stuck script must not outlive the test).</summary>
    private static async Task<(int Code, string Output)> RunBashAsync(string arguments, string folder, int timeoutSeconds)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("bash", arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder,
        }) ?? throw new InvalidOperationException("bash did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        await using (timeout.Token.Register(() => process.Kill(entireProcessTree: true)))
        {
            await process.WaitForExitAsync(CancellationToken.None);
        }
        var late = timeout.IsCancellationRequested ? $"\n(killed after {timeoutSeconds} s)" : "";
        return (process.ExitCode, await stdout + await stderr + late);
    }

    private string NewFolder(string name)
    {
        var folder = Path.Combine(factory.DataPath, $"script-{name}-{Guid.NewGuid():N}"[..30]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    private static async Task<string> SaveScriptAsync(HttpClient client, string href, string folder)
    {
        using var response = await client.GetAsync(href);
        Assert.True(response.IsSuccessStatusCode, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("text/x-shellscript", response.Content.Headers.ContentType!.MediaType);
        var path = Path.Combine(folder, "order.sh");
        await File.WriteAllBytesAsync(path, await response.Content.ReadAsByteArrayAsync());
        return "order.sh";
    }

    /// <summary>Gives one raw file of the dataset another name in the catalog (before it is ordered).</summary>
    private async Task RenameOneCatalogFileAsync(string datasetId, string name)
    {
        await using var db = factory.CreateDbContext();
        var file = await db.DataFiles.Where(f => f.DataObject!.DatasetId == datasetId && f.DataType == Regards.Portal.Catalog.DataType.RawData)
            .OrderBy(f => f.Id).FirstAsync();
        file.Name = name;
        await db.SaveChangesAsync();
    }
}
