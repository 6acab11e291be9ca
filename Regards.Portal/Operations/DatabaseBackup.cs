using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Regards.Portal.Data;

namespace Regards.Portal.Operations;

/// <summary>
/// <c>backup --to FILE</c>: a consistent copy of the SQLite database taken while the portal runs, with SQLite's online
/// backup API (a read transaction: in WAL mode the portal goes on writing meanwhile). The copy is written next to its
/// target, checked (<c>PRAGMA integrity_check</c>), made a single file (journal mode DELETE) and only then moved to
/// FILE, so FILE is a complete backup or nothing. PostgreSQL and SQL Server have their own tools (README).
/// </summary>
public static class DatabaseBackup
{
    public const string Usage = "dotnet Regards.Portal.dll backup --to <file>";

    /// <summary>Runs <c>backup</c> when asked; null when the arguments are no such command, else the exit code.</summary>
    public static async Task<int?> RunBackupCommandAsync(this WebApplication app, string[] args, TextWriter output)
    {
        if (args.Length < 1 || args[0] != "backup")
        {
            return null;
        }
        var toAt = Array.IndexOf(args, "--to");
        var target = toAt >= 0 && toAt + 1 < args.Length ? args[toAt + 1] : null;
        if (string.IsNullOrWhiteSpace(target))
        {
            await output.WriteLineAsync($"Where to? {Usage}");
            return 2;
        }
        var provider = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider;
        if (provider != DatabaseProvider.Sqlite)
        {
            await output.WriteLineAsync($"The database is {provider}: back it up with its own tools (pg_dump, BACKUP DATABASE); see the README, \"Backup and restore\".");
            return 2;
        }
        target = Path.GetFullPath(target);
        if (File.Exists(target))
        {
            await output.WriteLineAsync($"{target} exists: choose a new file (a backup never overwrites one).");
            return 1;
        }
        try
        {
            var result = await BackupAsync(app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>(), target);
            await output.WriteLineAsync($"Backup written to {target}: {result.Bytes:N0} bytes, {result.Orders:N0} orders, integrity ok, in {result.Duration.TotalSeconds:0.0} s.");
            return 0;
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            await output.WriteLineAsync($"The backup failed: {e.Message}");
            return 1;
        }
    }

    public sealed record BackupResult(long Bytes, long Orders, TimeSpan Duration);

    /// <summary>Copies the portal's SQLite database to <paramref name="target"/> (which must not exist).</summary>
    public static async Task<BackupResult> BackupAsync(IDbContextFactory<PortalDbContext> dbFactory, string target, CancellationToken cancellationToken = default)
    {
        var watch = Stopwatch.StartNew();
        string source;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            source = db.Database.GetConnectionString() ?? throw new InvalidOperationException("The database has no connection string.");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var partial = target + ".partial";
        File.Delete(partial);
        try
        {
            await using (var from = new SqliteConnection(source))
            await using (var to = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = partial, Pooling = false }.ToString()))
            {
                await from.OpenAsync(cancellationToken);
                await to.OpenAsync(cancellationToken);
                // One step: the pages of one read transaction, whatever the portal writes meanwhile.
                from.BackupDatabase(to);
                await ExecuteAsync(to, "PRAGMA journal_mode=DELETE;", cancellationToken);
                var integrity = await ExecuteAsync(to, "PRAGMA integrity_check;", cancellationToken);
                if (!string.Equals(integrity, "ok", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"the copy fails its integrity check: {integrity}");
                }
                var orders = long.Parse(await ExecuteAsync(to, "SELECT COUNT(*) FROM \"Orders\";", cancellationToken) ?? "0", System.Globalization.CultureInfo.InvariantCulture);
                await to.CloseAsync();
                File.Move(partial, target);
                return new BackupResult(new FileInfo(target).Length, orders, watch.Elapsed);
            }
        }
        finally
        {
            File.Delete(partial);
        }
    }

    private static async Task<string?> ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (await command.ExecuteScalarAsync(cancellationToken))?.ToString();
    }
}
