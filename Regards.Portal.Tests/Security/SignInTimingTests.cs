using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Data;
using Regards.Portal.Tests.Identity;
using Regards.Portal.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Regards.Portal.Tests.Security;

/// <summary>Timing tests measure the server: they run alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "Timing";
}

/// <summary>
/// Issue 15, L5: "login takes ~130 ms for a real account and ~2 ms otherwise". Unknown accounts, wrong passwords of real
/// accounts and locked accounts are tried in turn, each account once (so no limit of the policy changes the path).
/// Compared: the median, over the rounds, of the difference between a real account's time (wrong password, locked)
/// and the unknown account's time of the same round. Pairing the tries of one round cancels the load of the machine
/// as it comes and goes (other tests, other processes); the median ignores the tries a burst of load hit. Rounds are
/// measured in batches until the median differences are within the tolerance (a loaded machine needs more rounds for
/// the median to settle), at most <see cref="Batches"/> batches: a real difference (a password hash checked in one
/// case only, tens of ms) stays outside it however many rounds are measured.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class SignInTimingTests(ITestOutputHelper output)
{
    private const int Rounds = 30;
    private const int Batches = 6;
    private static readonly TimeSpan Tolerance = TimeSpan.FromMilliseconds(5);

    private enum Kind
    {
        Unknown,
        WrongPassword,
        Locked,
    }

    [Fact]
    public async Task An_unknown_account_a_wrong_password_and_a_locked_account_take_the_same_time()
    {
        using var factory = new PortalAppFactory();
        // Every try comes from this test's one client: its own limit would pause it (SignInLockoutTests tests the limits).
        factory.Settings["Accounts:MaxFailuresPerClient"] = "1000000";
        factory.StartKestrel();
        // A warm-up batch, then measured batches.
        var accounts = await CreateAccountsAsync(factory, (Batches + 1) * Rounds);
        using var client = factory.ClientFrom("127.0.40.1");

        var next = 0;
        await MeasureBatchAsync(client, accounts, next);
        var times = Enum.GetValues<Kind>().ToDictionary(k => k, _ => new List<TimeSpan>());
        var reports = new List<string>();
        for (var batch = 0; batch < Batches; batch++)
        {
            next += Rounds;
            foreach (var (kind, batchTimes) in await MeasureBatchAsync(client, accounts, next))
            {
                times[kind].AddRange(batchTimes);
            }
            var wrong = MedianDifference(times[Kind.WrongPassword], times[Kind.Unknown]);
            var locked = MedianDifference(times[Kind.Locked], times[Kind.Unknown]);
            var report = $"{times[Kind.Unknown].Count} rounds: medians " + string.Join(", ", times.Select(t => $"{t.Key} {Median(t.Value).TotalMilliseconds:F1} ms"))
                + $"; median difference to unknown: wrong password {wrong.TotalMilliseconds:F1} ms, locked {locked.TotalMilliseconds:F1} ms";
            output.WriteLine(report);
            reports.Add(report);
            if (wrong.Duration() < Tolerance && locked.Duration() < Tolerance)
            {
                return;
            }
        }
        Assert.Fail($"The sign-in times differ by {Tolerance.TotalMilliseconds} ms or more:\n" + string.Join("\n", reports));
    }

    private static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static TimeSpan MedianDifference(IReadOnlyList<TimeSpan> times, IReadOnlyList<TimeSpan> unknown) =>
        Median(times.Zip(unknown, (a, b) => a - b));

    /// <summary>One try of each kind per round, in a rotating order; each kind's times, by round.</summary>
    private static async Task<Dictionary<Kind, List<TimeSpan>>> MeasureBatchAsync(HttpClient client, Dictionary<Kind, List<string>> accounts, int first)
    {
        var times = Enum.GetValues<Kind>().ToDictionary(k => k, _ => new List<TimeSpan>());
        var kinds = Enum.GetValues<Kind>();
        for (var round = 0; round < Rounds; round++)
        {
            for (var k = 0; k < kinds.Length; k++)
            {
                var kind = kinds[(round + k) % kinds.Length];
                var email = accounts[kind][first + round];
                var watch = Stopwatch.StartNew();
                using var response = await client.PostAsJsonAsync("/api/identity/login", new { email, password = "Not!ThePassword1" });
                await response.Content.ReadAsByteArrayAsync();
                watch.Stop();
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
                times[kind].Add(watch.Elapsed);
            }
        }
        return times;
    }

    /// <summary>
    /// Real accounts (confirmed, with a real password hash) and locked ones (an administrator's lock), one per try,
    /// and unknown addresses. The accounts share one hash, made by the portal's hasher.
    /// </summary>
    private static async Task<Dictionary<Kind, List<string>>> CreateAccountsAsync(PortalAppFactory factory, int perKind)
    {
        var template = await factory.CreateUserAsync("timing-template@regards.local", "Timing!Password1");
        var accounts = new Dictionary<Kind, List<string>>
        {
            [Kind.Unknown] = Enumerable.Range(0, perKind).Select(i => $"timing-nobody-{i}@regards.local").ToList(),
            [Kind.WrongPassword] = Enumerable.Range(0, perKind).Select(i => $"timing-open-{i}@regards.local").ToList(),
            [Kind.Locked] = Enumerable.Range(0, perKind).Select(i => $"timing-locked-{i}@regards.local").ToList(),
        };
        using var scope = factory.Services.CreateScope();
        var normalizer = scope.ServiceProvider.GetRequiredService<ILookupNormalizer>();
        await using var db = factory.CreateDbContext();
        foreach (var kind in new[] { Kind.WrongPassword, Kind.Locked })
        {
            db.Users.AddRange(accounts[kind].Select(email => new ApplicationUser
            {
                UserName = email, NormalizedUserName = normalizer.NormalizeName(email), Email = email, NormalizedEmail = normalizer.NormalizeEmail(email),
                EmailConfirmed = true, PasswordHash = template.PasswordHash, SecurityStamp = Guid.NewGuid().ToString("N"),
                LockoutEnabled = true, LockoutEnd = kind == Kind.Locked ? DateTimeOffset.UtcNow.AddYears(10) : null,
            }));
        }
        await db.SaveChangesAsync();
        return accounts;
    }
}
