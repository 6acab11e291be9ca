using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Regards.Portal.Data;
using Regards.Portal.Notifications;
using Regards.Portal.Operations;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Operations;

/// <summary>Readiness names each check (database, storage, engine, mail) with what it saw; liveness checks nothing.</summary>
public sealed class HealthTests
{
    private static async Task<JsonElement> ReadyAsync(HttpClient client, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await client.GetAsync("/health/ready");
        Assert.Equal(expected, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string StatusOf(JsonElement report, string check) =>
        report.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == check).GetProperty("status").GetString()!;

    [Fact]
    public async Task Readiness_names_every_check_and_a_fresh_portal_is_healthy()
    {
        using var factory = new PortalAppFactory();
        var client = factory.CreateClient();
        var report = await ReadyAsync(client);
        Assert.Equal("Healthy", report.GetProperty("status").GetString());
        Assert.Equal(["database", "storage", "engine", "mail"], report.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.All(report.GetProperty("checks").EnumerateArray(), c => Assert.Equal("Healthy", c.GetProperty("status").GetString()));
        Assert.True(report.GetProperty("checks")[1].GetProperty("data").GetProperty("storageFreeBytes").GetInt64() > 0);
    }

    [Fact]
    public async Task A_storage_folder_that_cannot_be_written_makes_the_portal_degraded_while_it_stays_alive()
    {
        using var factory = new PortalAppFactory();
        var client = factory.CreateClient();
        Assert.Equal("Healthy", StatusOf(await ReadyAsync(client), "storage"));
        var storage = Path.Combine(factory.DataPath, "storage");
        ReadOnly(storage, true);
        try
        {
            var report = await ReadyAsync(client);
            Assert.Equal("Degraded", report.GetProperty("status").GetString());
            var check = report.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "storage");
            Assert.Equal("Degraded", check.GetProperty("status").GetString());
            Assert.Contains("storage folder cannot be written", check.GetProperty("description").GetString());
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
        }
        finally
        {
            ReadOnly(storage, false);
        }
        Assert.Equal("Healthy", StatusOf(await ReadyAsync(client), "storage"));
    }

    /// <summary>Root writes through permissions: as root the folder is made immutable instead.</summary>
    private static void ReadOnly(string folder, bool on)
    {
        if (Environment.UserName == "root")
        {
            using var chattr = Process.Start("chattr", [on ? "+i" : "-i", folder])!;
            chattr.WaitForExit();
            Assert.Equal(0, chattr.ExitCode);
        }
        else if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, on ? UnixFileMode.UserRead | UnixFileMode.UserExecute : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    [Trait("Tier", "Fast")]
    public async Task The_engine_check_is_degraded_once_the_loop_has_not_run_for_the_configured_time()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var heartbeat = new EngineHeartbeat(time);
        var check = new EngineHealthCheck(heartbeat, Options.Create(new OrdersOptions()), Options.Create(new HealthOptions { EngineStaleAfter = TimeSpan.FromMinutes(2) }), time);
        Assert.Equal(HealthStatus.Degraded, (await check.CheckHealthAsync(new HealthCheckContext())).Status); // never ran
        heartbeat.Beat();
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
        time.Advance(TimeSpan.FromMinutes(1.5));
        var late = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Degraded, late.Status);
        Assert.Contains("has not run for 150 s", late.Description);
        heartbeat.Beat();
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
    }

    [Fact]
    [Trait("Tier", "Fast")]
    public async Task The_mail_check_is_degraded_while_a_mail_waits_longer_than_allowed()
    {
        var path = Path.Combine(Path.GetTempPath(), "regards-tests", $"health-{Guid.NewGuid():N}.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var factory = new FileFactory(path);
        try
        {
            await using (var db = factory.CreateDbContext())
            {
                await db.Database.MigrateAsync();
            }
            var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var check = new MailOutboxHealthCheck(factory, Options.Create(new HealthOptions { MailStuckAfter = TimeSpan.FromMinutes(30) }), time);
            Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);

            await using (var db = factory.CreateDbContext())
            {
                var now = time.GetUtcNow().UtcDateTime;
                db.OutboxMails.Add(new OutboxMail { To = "u@x", Subject = "s", Message = "m", CreatedAt = now, NextAttemptAt = now, Attempts = 3, LastError = "connection refused" });
                db.OutboxMails.Add(new OutboxMail { To = "v@x", Subject = "s", Message = "m", CreatedAt = now.AddDays(-2), NextAttemptAt = now, Attempts = 10, GaveUp = true });
                await db.SaveChangesAsync();
            }
            // A given-up mail is the dashboard's business, not a stuck outbox; a fresh one is not late yet.
            Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
            time.Advance(TimeSpan.FromMinutes(31));
            var stuck = await check.CheckHealthAsync(new HealthCheckContext());
            Assert.Equal(HealthStatus.Degraded, stuck.Status);
            Assert.Equal(1, stuck.Data["waitingTooLong"]);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    private sealed class FileFactory(string path) : IDbContextFactory<PortalDbContext>
    {
        public PortalDbContext CreateDbContext() =>
            new SqlitePortalDbContext(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite($"Data Source={path}").Options);
    }
}
