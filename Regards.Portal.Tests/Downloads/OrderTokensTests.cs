using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Regards.Portal.Downloads;

namespace Regards.Portal.Tests.Downloads;

[Trait("Tier", "Fast")]
public sealed class OrderTokensTests
{
    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void A_token_read_once_is_remembered_but_still_expires_and_a_tampered_copy_is_still_refused()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        var tokens = new OrderTokens(new EphemeralDataProtectionProvider(), Options.Create(new DownloadOptions()), clock);
        var token = tokens.Create(42, "user@regards.test", clock.Now.UtcDateTime.AddHours(1));

        Assert.Equal(new OrderTokenClaims(42, "user@regards.test", clock.Now.UtcDateTime.AddHours(1)), tokens.Read(token));
        Assert.Equal(42, tokens.Read(token)!.OrderId); // the remembered claims

        var tampered = token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1];
        Assert.Null(tokens.Read(tampered));

        clock.Now = clock.Now.AddHours(1);
        Assert.Null(tokens.Read(token));
    }
}
