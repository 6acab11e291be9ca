using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Regards.Portal.Catalog;
using Regards.Portal.Storage;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Catalog;

[Trait("Tier", "Fast")]
public sealed class LocalDiskStorageTests : IDisposable
{
    // Next to the tests rather than in the temp folder: /tmp may be a tmpfs, whose pages cannot be dropped from the
    // page cache, and the prefetch test needs a real disk.
    private readonly string root = Path.Combine(AppContext.BaseDirectory, "storage-tests", "storage-" + Guid.NewGuid().ToString("N"));

    private LocalDiskStorage Create(TimeSpan latency, double failureRate = 0) => new(Options.Create(new StorageOptions
    {
        Root = Path.Combine(root, "archive"),
        CachePath = Path.Combine(root, "cache"),
        NearlineLatencyPerRequest = latency,
        NearlineLatencyPerGigabyte = TimeSpan.Zero,
        NearlineFailureRate = failureRate,
    }), TimeProvider.System, NullLogger<LocalDiskStorage>.Instance);

    private StorageFileRef Write(string location, int size, StorageTier tier)
    {
        var path = Path.Combine(root, "archive", location);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        return new StorageFileRef(tier, location, size, null);
    }

    [Fact]
    public async Task Online_files_are_readable_at_once_and_nearline_files_only_after_a_restore_with_latency()
    {
        var storage = Create(TimeSpan.FromMilliseconds(300));
        var online = Write("a/online.bin", 1000, StorageTier.Online);
        var nearline = Write("b/tape.bin", 200_000, StorageTier.Nearline);

        Assert.True(storage.IsReadable(1, online));
        Assert.False(storage.IsReadable(1, nearline));
        Assert.Throws<FileNotFoundException>(() => storage.OpenRead(1, nearline));

        var watch = Stopwatch.StartNew();
        var outcomes = await storage.StageAsync(1, [online, nearline], CancellationToken.None);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(280));
        Assert.All(outcomes, o => Assert.True(o.Success));
        Assert.True(storage.IsReadable(1, nearline));
        Assert.False(storage.IsReadable(2, nearline)); // the cache is per order

        await using var restored = storage.OpenRead(1, nearline);
        using var copy = new MemoryStream();
        await restored.CopyToAsync(copy);
        Assert.Equal(File.ReadAllBytes(Path.Combine(root, "archive", "b/tape.bin")), copy.ToArray());

        // The journal records the one restore; staging again (a job taken over) finds the file there and restores nothing.
        await storage.StageAsync(1, [nearline], CancellationToken.None);
        var journal = File.ReadAllLines(Assert.Single(Directory.GetFiles(Path.Combine(root, "cache"), LocalDiskStorage.RestoreJournalPattern)));
        var line = Assert.Single(journal).Split('\t');
        Assert.Equal(["1", "b/tape.bin", "200000"], line[1..4]);
    }

    [Fact]
    public async Task Restores_ending_at_once_in_one_process_each_leave_one_whole_journal_line()
    {
        // The journal is appended at the end the file had when it was opened: two appends of one process at once wrote
        // at the same offset, and the longer line's tail was left as a line of its own (the cluster test read one).
        var storage = Create(TimeSpan.Zero);
        var files = Enumerable.Range(0, 400).Select(i => Write($"j/{i}/{new string('x', i % 37)}.bin", 100 + i, StorageTier.Nearline)).ToList();
        using var start = new Barrier(2);
        var halves = files.Chunk(200).Select(half => Task.Run(async () =>
        {
            start.SignalAndWait();
            foreach (var file in half)
            {
                Assert.True((await storage.StageAsync(7, [file], CancellationToken.None)).Single().Success);
            }
        })).ToList();
        await Task.WhenAll(halves);

        var lines = File.ReadAllLines(Assert.Single(Directory.GetFiles(Path.Combine(root, "cache"), LocalDiskStorage.RestoreJournalPattern)))
            .Select(l => l.Split('\t')).ToList();
        Assert.All(lines, l => Assert.Equal(5, l.Length));
        Assert.Equal(files.Select(f => f.Location).Order(), lines.Select(l => l[2]).Order());
    }

    [Fact]
    public async Task The_same_file_restored_by_two_instances_at_once_comes_out_whole_for_both_and_leaves_no_partial_file()
    {
        // Two instances on one storage (a sub-order's lease taken over from an instance still restoring). The portal
        // takes no file locks, so each restore writes under a name of its own: with one shared name, a second writer
        // truncated the first's copy under it, or renamed it away before the first's rename.
        var instances = new[] { Create(TimeSpan.Zero), Create(TimeSpan.Zero) };
        var file = Write("t/shared.bin", 4_000_000, StorageTier.Nearline);
        var expected = await File.ReadAllBytesAsync(Path.Combine(root, "archive", "t/shared.bin"));
        var cached = Path.Combine(root, "cache", "8");
        for (var round = 0; round < 10; round++)
        {
            if (Directory.Exists(cached))
            {
                Directory.Delete(cached, recursive: true);
            }
            using var start = new Barrier(2);
            var outcomes = await Task.WhenAll(instances.Select(storage => Task.Run(async () =>
            {
                start.SignalAndWait();
                return (await storage.StageAsync(8, [file], CancellationToken.None)).Single();
            })));
            Assert.All(outcomes, o => Assert.True(o.Success, o.Error));
            await using (var read = instances[0].OpenRead(8, file))
            {
                using var copy = new MemoryStream();
                await read.CopyToAsync(copy);
                Assert.True(expected.AsSpan().SequenceEqual(copy.ToArray()), $"round {round}: the restored file differs from the archive's");
            }
            Assert.Empty(Directory.GetFiles(cached, "*.partial", SearchOption.AllDirectories));
        }
    }

    [Fact]
    public async Task Prefetch_starts_reading_a_file_into_the_page_cache_and_ignores_what_it_cannot_read()
    {
        var storage = Create(TimeSpan.Zero);
        var online = Write("p/next.bin", 3_000_000, StorageTier.Online);
        var path = Path.Combine(root, "archive", "p/next.bin");
        PageCache.Evict([path]);
        Assert.Equal(0, await PageCache.ResidentBytesAsync(path));

        storage.Prefetch(1, online);
        // A hint: the kernel starts reading at once but may read less than asked when the machine is busy (the whole
        // test command runs beside it), so the test holds that reading started, not that it finished.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await PageCache.ResidentBytesAsync(path) == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.True(await PageCache.ResidentBytesAsync(path) > 0, "nothing of the file was read into the page cache");

        // A hint never fails: files not staged, missing or external are simply not fetched.
        storage.Prefetch(1, new StorageFileRef(StorageTier.Nearline, "p/not-staged.bin", 10, null));
        storage.Prefetch(1, new StorageFileRef(StorageTier.Online, "p/missing.bin", 10, null));
        storage.Prefetch(1, new StorageFileRef(StorageTier.External, "https://example.org/x.nc", 10, null));
    }

    [Fact]
    public async Task A_failure_rate_of_one_fails_every_restore_and_missing_files_fail_with_a_message()
    {
        var storage = Create(TimeSpan.Zero, failureRate: 1);
        var nearline = Write("c/tape.bin", 10, StorageTier.Nearline);
        var missing = new StorageFileRef(StorageTier.Online, "c/missing.bin", 10, null);
        var outcomes = await storage.StageAsync(3, [nearline, missing], CancellationToken.None);
        Assert.False(outcomes[0].Success);
        Assert.False(outcomes[1].Success);
        Assert.Contains("missing", outcomes[1].Error);
        Assert.False(storage.IsReadable(3, nearline));
    }

    [Fact]
    public async Task Cancelling_a_restore_stops_promptly_and_leaves_nothing_readable()
    {
        var storage = Create(TimeSpan.FromSeconds(30));
        var nearline = Write("d/tape.bin", 10, StorageTier.Nearline);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => storage.StageAsync(4, [nearline], cancel.Token));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
        Assert.False(storage.IsReadable(4, nearline));
    }

    [Theory]
    [InlineData("../outside.bin")]
    [InlineData("a/../../outside.bin")]
    [InlineData("/etc/passwd")]
    public void Locations_that_leave_the_storage_root_are_refused(string location)
    {
        var storage = Create(TimeSpan.Zero);
        Assert.Throws<UnauthorizedAccessException>(() => storage.OpenRead(1, new StorageFileRef(StorageTier.Online, location, 1, null)));
    }

    [Fact]
    public async Task Releasing_an_order_deletes_its_cache_and_outputs_only()
    {
        var storage = Create(TimeSpan.Zero);
        var nearline = Write("e/tape.bin", 10, StorageTier.Nearline);
        await storage.StageAsync(5, [nearline], CancellationToken.None);
        await storage.StageAsync(6, [nearline], CancellationToken.None);
        await using (var output = storage.CreateOrderOutput(5, "result.txt", out var location))
        {
            output.Write("hello"u8);
            Assert.StartsWith("order-output:5/", location);
        }

        await storage.ReleaseOrderAsync(5, CancellationToken.None);
        Assert.False(storage.IsReadable(5, nearline));
        Assert.True(storage.IsReadable(6, nearline));
        Assert.False(Directory.Exists(Path.Combine(root, "cache", "5")));
    }

    public void Dispose()
    {
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
    }
}
