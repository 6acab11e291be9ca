using System.Buffers;
using Microsoft.Extensions.Options;
using Regards.Portal.Catalog;

namespace Regards.Portal.Storage;

/// <summary>
/// Storage on local (or mounted shared) disk. Online files are read in place; Nearline files stand for tape:
/// a restore copies them into <c>cache/&lt;orderId&gt;/</c> after a simulated latency, and may fail. Each completed
/// restore appends a line to this process's journal in the cache folder (<see cref="RestoreJournalPattern"/>: time,
/// order, file, bytes, process), the tape-recall record operators account with. One file per process, appended under a
/// lock: .NET appends by seeking to the end, so two appends at once, from two processes or two threads, could overwrite
/// each other's lines.
/// </summary>
public sealed class LocalDiskStorage(IOptions<StorageOptions> options, TimeProvider time, ILogger<LocalDiskStorage> logger) : IFileStorage
{
    public const string RestoreJournalPattern = "restores-*.log";

    private static readonly string RestoreJournal = $"restores-{Environment.MachineName}-{Environment.ProcessId}.log";

    /// <summary>The journal is this process's: its appends take turns.</summary>
    private static readonly Lock JournalGate = new();

    private const int CopyBufferSize = 128 * 1024;
    private const long PrefetchBytes = 8 << 20;
    private readonly StorageOptions settings = options.Value;

    public async Task<IReadOnlyList<StagingOutcome>> StageAsync(long orderId, IReadOnlyList<StorageFileRef> files, CancellationToken cancellationToken)
    {
        var outcomes = new StagingOutcome[files.Count];
        var nearline = new List<int>();
        for (var i = 0; i < files.Count; i++)
        {
            var file = files[i];
            outcomes[i] = file.Tier switch
            {
                StorageTier.Online => File.Exists(ArchivePath(file.Location)) ? StagingOutcome.Ok : new StagingOutcome(false, "The file is missing from storage."),
                StorageTier.External => StagingOutcome.Ok,
                _ => StagingOutcome.Ok,
            };
            if (file.Tier == StorageTier.Nearline)
            {
                nearline.Add(i);
            }
        }
        if (nearline.Count == 0)
        {
            return outcomes;
        }

        // One tape request for the batch: fixed latency plus a per-gigabyte share.
        var bytes = nearline.Sum(i => files[i].Size);
        var latency = settings.NearlineLatencyPerRequest + settings.NearlineLatencyPerGigabyte * (bytes / (double)(1L << 30));
        await Task.Delay(latency, cancellationToken);

        foreach (var i in nearline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            outcomes[i] = await RestoreAsync(orderId, files[i], cancellationToken);
        }
        return outcomes;
    }

    private async Task<StagingOutcome> RestoreAsync(long orderId, StorageFileRef file, CancellationToken cancellationToken)
    {
        if (Fails(file))
        {
            return new StagingOutcome(false, "The nearline storage could not restore the file.");
        }
        var source = ArchivePath(file.Location);
        if (!File.Exists(source))
        {
            return new StagingOutcome(false, "The file is missing from storage.");
        }
        var target = CachePath(orderId, file.Location);
        if (File.Exists(target) && new FileInfo(target).Length == new FileInfo(source).Length)
        {
            return StagingOutcome.Ok;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        // Copy to a temporary name, then rename: a cancelled or crashed restore never leaves a half file readable. A
        // name of its own (created, never opened twice): two instances restoring the same file at once (a lease taken
        // over from a live instance) each write their own copy, and the last rename wins with the same bytes. The
        // portal takes no file locks (Regards.Portal.csproj). A process killed midway leaves its partial file until the
        // order's cache is released.
        var partial = $"{target}.{Guid.NewGuid():N}.partial";
        try
        {
            await using (var input = OpenFile(source))
            await using (var output = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBufferSize, FileOptions.Asynchronous))
            {
                var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
                try
                {
                    int read;
                    while ((read = await input.ReadAsync(buffer, cancellationToken)) > 0)
                    {
                        await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
            File.Move(partial, target, overwrite: true);
            // One short synchronous append right after the rename, so that a process killed in between is unlikely (an
            // async write would wait for a pool thread); under the journal's lock (see the class).
            var line = $"{time.GetUtcNow():O}\t{orderId}\t{file.Location}\t{file.Size}\t{Environment.ProcessId}\n";
            lock (JournalGate)
            {
                File.AppendAllText(Path.Combine(CacheRoot, RestoreJournal), line);
            }
            return StagingOutcome.Ok;
        }
        catch
        {
            TryDelete(partial);
            throw;
        }
    }

    public bool IsReadable(long orderId, StorageFileRef file) => file.Tier switch
    {
        StorageTier.Online => File.Exists(ArchivePath(file.Location)),
        StorageTier.Nearline => File.Exists(CachePath(orderId, file.Location)),
        _ => false,
    };

    public Stream OpenRead(long orderId, StorageFileRef file)
    {
        var path = file.Tier switch
        {
            StorageTier.Online => OutputOrArchivePath(orderId, file.Location),
            StorageTier.Nearline => CachePath(orderId, file.Location),
            _ => throw new FileNotFoundException("External files are not served by the portal."),
        };
        // Opened without asking first whether it exists: one system call less on every file served.
        try
        {
            return file.Size <= SingleReadSize ? OpenSmallFile(path) : OpenFile(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException("The file is not available in storage.", Path.GetFileName(path));
        }
    }

    public void Prefetch(long orderId, StorageFileRef file)
    {
        if (!PageCacheHints.Available || file.Tier == StorageTier.External)
        {
            return;
        }
        try
        {
            var path = file.Tier == StorageTier.Online ? OutputOrArchivePath(orderId, file.Location) : CachePath(orderId, file.Location);
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            // The kernel's own read-ahead only ramps up once a file is being read; this starts the first window
            // now, while the previous file is still streaming. Bounded, so a huge file does not flood the cache.
            _ = PageCacheHints.WillNeed(handle, Math.Min(file.Size, PrefetchBytes));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // A missing or unreadable file is reported by OpenRead, when it is really read.
        }
    }

    public Stream CreateOrderOutput(long orderId, string relativeName, out string location)
    {
        var safeName = Path.GetFileName(relativeName);
        if (string.IsNullOrWhiteSpace(safeName))
        {
            throw new ArgumentException("An output needs a file name.", nameof(relativeName));
        }
        location = $"{OutputPrefix}{orderId}/{Guid.NewGuid():N}/{safeName}";
        var path = OutputOrArchivePath(orderId, location);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBufferSize, FileOptions.Asynchronous);
    }

    public void DeleteOrderOutput(long orderId, string location)
    {
        if (!location.StartsWith(OutputPrefix, StringComparison.Ordinal))
        {
            throw new ArgumentException("Only processing outputs can be deleted.", nameof(location));
        }
        var path = OutputOrArchivePath(orderId, location);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
        // Each output has its own folder (see CreateOrderOutput).
        var folder = Path.GetDirectoryName(path);
        if (folder is not null && Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
        {
            Directory.Delete(folder);
        }
    }

    public Task ReleaseOrderAsync(long orderId, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(CacheRoot, orderId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
            logger.LogInformation("Released the cache of order {OrderId}", orderId);
        }
        return Task.CompletedTask;
    }

    /// <summary>Processing outputs live in the order's cache, addressed as Online files with this prefix.</summary>
    private const string OutputPrefix = "order-output:";

    private string CacheRoot => Path.GetFullPath(settings.CachePath);

    private string ArchivePath(string location) => SafeCombine(Path.GetFullPath(settings.Root), location);

    private string CachePath(long orderId, string location) =>
        SafeCombine(Path.Combine(CacheRoot, orderId.ToString(System.Globalization.CultureInfo.InvariantCulture)), location);

    private string OutputOrArchivePath(long orderId, string location)
    {
        if (!location.StartsWith(OutputPrefix, StringComparison.Ordinal))
        {
            return ArchivePath(location);
        }
        var rest = location[OutputPrefix.Length..];
        var slash = rest.IndexOf('/');
        if (slash < 0 || rest[..slash] != orderId.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new FileNotFoundException("That output does not belong to this order.");
        }
        return CachePath(orderId, "outputs/" + rest[(slash + 1)..]);
    }

    /// <summary>Locations are relative paths from the catalog; anything that would leave the root is refused.</summary>
    internal static string SafeCombine(string root, string relative)
    {
        if (string.IsNullOrWhiteSpace(relative) || Path.IsPathRooted(relative) || relative.Contains('\0'))
        {
            throw new UnauthorizedAccessException("Invalid storage location.");
        }
        var full = Path.GetFullPath(Path.Combine(root, relative));
        var rootWithSeparator = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (!full.StartsWith(rootWithSeparator, StringComparison.Ordinal))
        {
            throw new UnauthorizedAccessException("Invalid storage location.");
        }
        return full;
    }

    private bool Fails(StorageFileRef file)
    {
        if (settings.NearlineFailureRate <= 0)
        {
            return false;
        }
        // Deterministic per file, so a retry of the same file behaves the same in a demo.
        var hash = (uint)StringComparer.Ordinal.GetHashCode(file.Location) % 10_000;
        return hash < settings.NearlineFailureRate * 10_000;
    }

    // Unbuffered (bufferSize 0): every reader asks for large chunks, and a FileStream buffer would be one more
    // 128 KB array per opened file (a large-object allocation per single-file download).
    private static FileStream OpenFile(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan);

    /// <summary>Files up to this size are read whole in one read (FileResponder reads one of up to a piece, 64 KB, straight into the response).</summary>
    private const int SingleReadSize = 64 * 1024;

    // No read-ahead hint (one system call less per file served: the one read asks for the whole file anyway), and
    // synchronous: its one read is made in place.
    private static FileStream OpenSmallFile(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.None);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
