using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Regards.Portal.Data;
using Regards.Portal.Identity;
using Regards.Portal.Storage;

namespace Regards.Portal.Catalog;

/// <summary>
/// Generates catalogs with real bytes on disk: the deterministic demo (four datasets covering Online,
/// Nearline, restricted and metadata-only access) and large benchmark datasets.
/// </summary>
public sealed class CatalogGenerator(IDbContextFactory<PortalDbContext> dbFactory, IOptions<StorageOptions> storage, ILogger<CatalogGenerator> logger)
{
    public const string SwotId = "URN:AIP:DATASET:swot-l2";
    public const string SentinelId = "URN:AIP:DATASET:sentinel3-sral";
    public const string CalipsoId = "URN:AIP:DATASET:calipso-lidar";
    public const string SpotId = "URN:AIP:DATASET:spot5-archive";

    private const int Seed = 20_240_315;
    private static readonly DateTime Epoch = new(2023, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private sealed record DemoDataset(string Id, string Label, string Description, AccessLevel PublicAccess, AccessLevel TeamAccess,
        StorageTier Tier, string Folder, string Platform, string Instrument, string Level, string Mime, string Extension, Func<int, DateTime, string> ProviderId);

    private static readonly DemoDataset[] Demo =
    [
        new(SwotId, "SWOT L2 ocean heights", "Sea surface height from the SWOT Ka-band radar interferometer, level 2 low-rate products.",
            AccessLevel.Full, AccessLevel.Full, StorageTier.Online, "swot", "SWOT", "KaRIn", "L2", "application/x-netcdf", ".nc",
            (i, d) => $"SWOT_L2_LR_SSH_{i / 28 + 1:000}_{i % 28 + 1:000}_{d:yyyyMMdd}"),
        new(SentinelId, "Sentinel-3 SRAL altimetry archive", "Sentinel-3A SRAL water products from the tape archive: restored on demand.",
            AccessLevel.Full, AccessLevel.Full, StorageTier.Nearline, "sentinel3", "Sentinel-3A", "SRAL", "L2", "application/x-netcdf", ".nc",
            (i, d) => $"S3A_SR_2_WAT_{d:yyyyMMdd}T{i % 24:00}0000_{i:00000}"),
        new(CalipsoId, "CALIPSO lidar profiles", "CALIOP aerosol profiles, 5 km; restricted to the mission science team.",
            AccessLevel.None, AccessLevel.Full, StorageTier.Online, "calipso", "CALIPSO", "CALIOP", "L2", "application/x-hdf", ".hdf",
            (i, d) => $"CAL_LID_L2_05kmAPro_{d:yyyy-MM-dd}T{i % 24:00}_{i:00000}"),
        new(SpotId, "SPOT 5 archive imagery", "SPOT 5 HRG scenes; everyone sees the metadata, only the science team may order the images.",
            AccessLevel.MetadataOnly, AccessLevel.Full, StorageTier.Nearline, "spot5", "SPOT 5", "HRG", "L1A", "image/tiff", ".tif",
            (i, d) => $"SPOT5_HRG_{d:yyyyMMdd}_{i:00000}"),
    ];

    /// <summary>Seeds the demo catalog when no dataset exists yet; deterministic.</summary>
    public async Task SeedDemoAsync(int objectsPerDataset, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.Datasets.AnyAsync(cancellationToken))
        {
            return;
        }
        var watch = Stopwatch.StartNew();
        var random = new Random(Seed);
        long bytes = 0;
        var files = 0;
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        foreach (var ds in Demo)
        {
            db.Datasets.Add(new Dataset { Id = ds.Id, Label = ds.Label, Description = ds.Description, PublicAccess = ds.PublicAccess });
            if (ds.TeamAccess > ds.PublicAccess)
            {
                db.DatasetAccessRights.Add(new DatasetAccessRight { GroupName = IdentitySeeder.ScienceTeam, DatasetId = ds.Id, Level = ds.TeamAccess });
            }
            for (var i = 0; i < objectsPerDataset; i++)
            {
                var date = Epoch.AddHours(random.Next(0, 2 * 365 * 24)).AddMinutes(random.Next(60));
                var providerId = ds.ProviderId(i, date);
                var obj = new DataObject
                {
                    Id = $"URN:AIP:DATA:{ds.Folder}:{i:00000}",
                    ProviderId = providerId,
                    Label = $"{ds.Platform} {ds.Instrument} {ds.Level} {date:yyyy-MM-dd HH:mm}",
                    DatasetId = ds.Id,
                    AcquisitionDate = date,
                    Platform = ds.Platform,
                    Instrument = ds.Instrument,
                    ProcessingLevel = ds.Level,
                };
                // Mostly small files, a few large ones: realistic and still seeded in seconds.
                var size = random.NextDouble() < 0.01 ? random.Next(1 << 20, 8 << 20) : random.Next(16 << 10, 256 << 10);
                obj.Files.Add(await WriteFileAsync(random, obj.Id, $"{ds.Folder}/{providerId}{ds.Extension}", providerId + ds.Extension, size, ds.Mime, DataType.RawData, ds.Tier, cancellationToken));
                bytes += size;
                files++;
                if (i % 3 == 0)
                {
                    var quicklookSize = random.Next(4 << 10, 16 << 10);
                    if (ds.Id == SwotId && i % 15 == 0)
                    {
                        obj.Files.Add(new DataFile
                        {
                            DataObjectId = obj.Id, Name = providerId + "_ql.png", Size = quicklookSize, MimeType = "image/png",
                            DataType = DataType.QuicklookSd, Tier = StorageTier.External,
                            Location = $"https://quicklooks.swot.example.org/{providerId}.png",
                        });
                    }
                    else
                    {
                        obj.Files.Add(await WriteFileAsync(random, obj.Id, $"{ds.Folder}/quicklooks/{providerId}.png", providerId + "_ql.png", quicklookSize, "image/png", DataType.QuicklookSd, StorageTier.Online, cancellationToken));
                        bytes += quicklookSize;
                        files++;
                    }
                }
                db.DataObjects.Add(obj);
            }
            if (ds.Id == SwotId)
            {
                // Catalog entries with no file at all: visible, never orderable.
                for (var i = 0; i < Math.Max(1, objectsPerDataset / 50); i++)
                {
                    db.DataObjects.Add(new DataObject
                    {
                        Id = $"URN:AIP:DATA:{ds.Folder}:doc{i:000}", ProviderId = $"SWOT_CAL_VAL_NOTE_{i:000}", Label = $"SWOT calibration note {i + 1}",
                        DatasetId = ds.Id, AcquisitionDate = Epoch.AddDays(i * 30), Platform = ds.Platform, Instrument = ds.Instrument, ProcessingLevel = "DOC",
                    });
                }
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Demo catalog seeded: {Datasets} datasets, {Objects} objects, {Files} files, {MegaBytes:0} MB in {Seconds:0.0} s",
            Demo.Length, Demo.Length * objectsPerDataset, files, bytes / 1048576.0, watch.Elapsed.TotalSeconds);
    }

    /// <summary>Adds a large dataset for benchmarks: batched inserts, optional real bytes (one file of <paramref name="fileSize"/> each).</summary>
    public async Task<string> AddBenchmarkDatasetAsync(int objects, int filesPerObject, int fileSize, bool metadataOnly, string? datasetId = null, CancellationToken cancellationToken = default)
    {
        var id = datasetId ?? $"URN:AIP:DATASET:bench-{objects}";
        var folder = "bench-" + Guid.NewGuid().ToString("N")[..8];
        var random = new Random(Seed);
        var watch = Stopwatch.StartNew();
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            db.Datasets.Add(new Dataset { Id = id, Label = $"Benchmark dataset ({objects:N0} objects)", Description = "Generated for benchmarks.", PublicAccess = AccessLevel.Full });
            await db.SaveChangesAsync(cancellationToken);
        }
        // Objects, then their files, through BulkInsert (one prepared INSERT per table and batch, COPY on PostgreSQL):
        // SaveChanges took over 6 minutes for a million objects on the 2-core machine, which the benchmarks paid first.
        const int batch = 20_000;
        for (var start = 0; start < objects; start += batch)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var batchObjects = new List<DataObject>(batch);
            var batchFiles = new List<DataFile>(batch * filesPerObject);
            for (var i = start; i < Math.Min(objects, start + batch); i++)
            {
                var obj = new DataObject
                {
                    Id = $"{id}:obj:{i:0000000}", ProviderId = $"BENCH_{folder}_{i:0000000}", Label = $"Benchmark object {i}", DatasetId = id,
                    AcquisitionDate = Epoch.AddMinutes(i), Platform = "BENCH", Instrument = "GEN", ProcessingLevel = "L0",
                };
                for (var f = 0; f < filesPerObject; f++)
                {
                    var location = $"{folder}/{i / 1000:0000}/{i:0000000}_{f}.dat";
                    batchFiles.Add(metadataOnly
                        ? new DataFile { DataObjectId = obj.Id, Name = $"{i:0000000}_{f}.dat", Size = fileSize, DataType = DataType.RawData, Tier = StorageTier.Online, Location = location, Checksum = new string('0', 64) }
                        : await WriteFileAsync(random, obj.Id, location, $"{i:0000000}_{f}.dat", fileSize, "application/octet-stream", DataType.RawData, StorageTier.Online, cancellationToken));
                }
                batchObjects.Add(obj);
            }
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await BulkInsert.InsertAsync(db, batchObjects, cancellationToken);
            await BulkInsert.InsertAsync(db, batchFiles, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            // A bulk load, then statistics, as a catalog ingest does: the cart's first queries are planned on them.
            await ProviderSql.RefreshStatisticsAsync<DataObject>(db, cancellationToken);
            await ProviderSql.RefreshStatisticsAsync<DataFile>(db, cancellationToken);
        }
        logger.LogInformation("Benchmark dataset {Dataset}: {Objects} objects × {Files} files in {Seconds:0.0} s", id, objects, filesPerObject, watch.Elapsed.TotalSeconds);
        return id;
    }

    private async Task<DataFile> WriteFileAsync(Random random, string objectId, string location, string name, int size, string mime, DataType type, StorageTier tier, CancellationToken cancellationToken)
    {
        var path = LocalDiskStorage.SafeCombine(Path.GetFullPath(storage.Value.Root), location);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            await using var output = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
            for (var written = 0; written < size;)
            {
                var chunk = Math.Min(buffer.Length, size - written);
                random.NextBytes(buffer.AsSpan(0, chunk));
                sha.AppendData(buffer, 0, chunk);
                md5.AppendData(buffer, 0, chunk);
                await output.WriteAsync(buffer.AsMemory(0, chunk), cancellationToken);
                written += chunk;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return new DataFile
        {
            DataObjectId = objectId, Name = name, Size = size, MimeType = mime, DataType = type, Tier = tier, Location = location,
            Checksum = Convert.ToHexStringLower(sha.GetHashAndReset()), Md5 = Convert.ToHexStringLower(md5.GetHashAndReset()),
        };
    }
}
