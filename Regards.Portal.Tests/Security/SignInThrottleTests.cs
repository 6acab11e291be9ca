using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Regards.Portal.Data;
using Regards.Portal.Identity;

namespace Regards.Portal.Tests.Security;

/// <summary>The counters of the lock-out policy on a migrated SQLite file, with a fake clock.</summary>
[Trait("Tier", "Fast")]
public sealed class SignInThrottleTests : IAsyncLifetime
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    private readonly string file = Path.Combine(Path.GetTempPath(), "regards-tests", $"throttle-{Guid.NewGuid():N}.db");
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly AccountOptions options = new();
    private SignInThrottle throttle = null!;
    private ContextFactory contexts = null!;

    private static readonly SignInKeys Attacker = SignInKeys.For(IPAddress.Parse("203.0.113.7"), "ADMIN@REGARDS.LOCAL");
    private static readonly SignInKeys Owner = SignInKeys.For(IPAddress.Parse("198.51.100.20"), "ADMIN@REGARDS.LOCAL");

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        contexts = new ContextFactory($"Data Source={file}");
        await using (var db = contexts.CreateDbContext())
        {
            await db.Database.MigrateAsync();
        }
        throttle = new SignInThrottle(contexts, Options.Create(options), clock);
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        File.Delete(file);
        return Task.CompletedTask;
    }

    private async Task FailAsync(SignInKeys keys, int times)
    {
        for (var i = 0; i < times; i++)
        {
            await throttle.RecordFailureAsync(keys);
        }
    }

    [Fact]
    public async Task Five_failures_pause_the_client_on_that_account_for_fifteen_minutes_and_no_one_else()
    {
        await FailAsync(Attacker, 4);
        Assert.Null((await throttle.ReadAsync(Attacker)).PausedUntil);
        await FailAsync(Attacker, 1);
        Assert.Equal(Now + TimeSpan.FromMinutes(15), (await throttle.ReadAsync(Attacker)).PausedUntil);
        Assert.Equal(new SignInThrottleState(null, AccountLocked: false, PairFailed: false), await throttle.ReadAsync(Owner));

        clock.Advance(TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(1));
        Assert.NotNull((await throttle.ReadAsync(Attacker)).PausedUntil);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null((await throttle.ReadAsync(Attacker)).PausedUntil);
    }

    [Fact]
    public async Task Failures_spread_over_more_than_the_window_never_pause()
    {
        for (var i = 0; i < 12; i++)
        {
            await FailAsync(Attacker, 4);
            Assert.Null((await throttle.ReadAsync(Attacker)).PausedUntil);
            clock.Advance(Window + TimeSpan.FromSeconds(1));
        }
    }

    [Fact]
    public async Task Twenty_failures_of_one_client_on_any_accounts_pause_it_on_every_account()
    {
        var client = IPAddress.Parse("203.0.113.8");
        for (var i = 0; i < 20; i++)
        {
            await throttle.RecordFailureAsync(SignInKeys.For(client, $"USER{i}@X"));
        }
        Assert.NotNull((await throttle.ReadAsync(SignInKeys.For(client, "SOMEONE-ELSE@X"))).PausedUntil);
        Assert.Null((await throttle.ReadAsync(SignInKeys.For(IPAddress.Parse("203.0.113.9"), "SOMEONE-ELSE@X"))).PausedUntil);
    }

    [Fact]
    public async Task The_account_lock_holds_clients_that_failed_in_their_window_only_and_ends()
    {
        for (var i = 1; i <= 10; i++)
        {
            await throttle.RecordFailureAsync(SignInKeys.For(IPAddress.Parse($"203.0.113.{i}"), "VICTIM@X"));
        }
        var failed = await throttle.ReadAsync(SignInKeys.For(IPAddress.Parse("203.0.113.1"), "VICTIM@X"));
        var clean = await throttle.ReadAsync(SignInKeys.For(IPAddress.Parse("198.51.100.1"), "VICTIM@X"));
        Assert.True(failed.LockedForThisClient);
        Assert.True(clean.AccountLocked);
        Assert.False(clean.LockedForThisClient);

        // The attack goes on from other clients: the lock holds longer...
        clock.Advance(TimeSpan.FromMinutes(10));
        for (var i = 101; i <= 110; i++)
        {
            await throttle.RecordFailureAsync(SignInKeys.For(IPAddress.Parse($"203.0.113.{i}"), "VICTIM@X"));
        }
        // ...but a client that failed once is held for its window only.
        clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        var later = await throttle.ReadAsync(SignInKeys.For(IPAddress.Parse("203.0.113.1"), "VICTIM@X"));
        Assert.True(later.AccountLocked);
        Assert.False(later.LockedForThisClient);

        // Once the failures stop, the lock ends after the pause.
        clock.Advance(TimeSpan.FromMinutes(10));
        Assert.False((await throttle.ReadAsync(SignInKeys.For(null, "VICTIM@X"))).AccountLocked);
    }

    [Fact]
    public async Task A_success_forgets_that_clients_failures_on_the_account_only()
    {
        await FailAsync(Attacker, 3);
        await FailAsync(Owner, 3);
        await throttle.RecordSuccessAsync(Owner);
        Assert.False((await throttle.ReadAsync(Owner)).PairFailed);
        Assert.True((await throttle.ReadAsync(Attacker)).PairFailed);
        await FailAsync(Attacker, 2);
        Assert.NotNull((await throttle.ReadAsync(Attacker)).PausedUntil);
    }

    [Fact]
    public async Task Parallel_failures_are_all_counted()
    {
        var client = IPAddress.Parse("203.0.113.50");
        await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => Task.Run(() => throttle.RecordFailureAsync(SignInKeys.For(client, "RACE@X")))));
        await using var db = contexts.CreateDbContext();
        var keys = SignInKeys.For(client, "RACE@X");
        Assert.Equal(24, await db.AttemptCounters.Where(c => c.Key == keys.Pair).Select(c => c.Count).SingleAsync());
        Assert.Equal(24, await db.AttemptCounters.Where(c => c.Key == keys.Client).Select(c => c.Count).SingleAsync());
    }

    [Fact]
    public async Task Counters_are_deleted_once_nobody_reads_them_and_keep_no_address_in_clear()
    {
        await FailAsync(Attacker, 5);
        await using (var db = contexts.CreateDbContext())
        {
            Assert.All(await db.AttemptCounters.Select(c => c.Key).ToListAsync(), key =>
            {
                Assert.DoesNotContain("203.0.113.7", key);
                Assert.DoesNotContain("ADMIN", key);
            });
        }
        clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        await throttle.RecordFailureAsync(Owner);
        await using (var db = contexts.CreateDbContext())
        {
            Assert.Equal(3, await db.AttemptCounters.CountAsync());
        }
    }

    [Fact]
    public async Task Account_mails_are_limited_per_client_and_address_and_per_client()
    {
        var flooder = IPAddress.Parse("203.0.113.60");
        var results = new List<bool>();
        for (var i = 0; i < 5; i++)
        {
            results.Add(await throttle.TryCountMailAsync(flooder, "VICTIM@X"));
        }
        Assert.Equal([true, true, true, false, false], results);
        Assert.True(await throttle.TryCountMailAsync(IPAddress.Parse("198.51.100.60"), "VICTIM@X"));
        clock.Advance(options.MailWindow + TimeSpan.FromSeconds(1));
        Assert.True(await throttle.TryCountMailAsync(flooder, "VICTIM@X"));

        var sprayer = IPAddress.Parse("203.0.113.61");
        for (var i = 0; i < 20; i++)
        {
            Assert.True(await throttle.TryCountMailAsync(sprayer, $"U{i}@X"));
        }
        Assert.False(await throttle.TryCountMailAsync(sprayer, "U20@X"));
    }

    [Theory]
    [InlineData("2001:db8:1:2:aaaa::1", "2001:db8:1:2:bbbb::2", true)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1", false)]
    [InlineData("::ffff:192.0.2.1", "192.0.2.1", true)]
    [InlineData("192.0.2.1", "192.0.2.2", false)]
    public void Clients_are_told_apart_by_ipv4_address_and_ipv6_64_prefix(string a, string b, bool same) =>
        Assert.Equal(same, SignInKeys.ClientAddress(IPAddress.Parse(a)) == SignInKeys.ClientAddress(IPAddress.Parse(b)));

    private sealed class ContextFactory(string connectionString) : IDbContextFactory<PortalDbContext>
    {
        public PortalDbContext CreateDbContext() =>
            new SqlitePortalDbContext(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite(connectionString).Options);
    }
}
