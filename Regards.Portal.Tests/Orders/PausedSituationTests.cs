using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Regards.Portal.Orders;
using Regards.Portal.Orders.Components;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Orders;

/// <summary>A paused order says which part resuming prepares next (<see cref="OrderSituation.Of"/> and its words).</summary>
[Trait("Tier", "Fast")]
public sealed class PausedSituationTests
{
    private static readonly IStringLocalizer<OrderSituationText> Words =
        new StringLocalizer<OrderSituationText>(new ResourceManagerStringLocalizerFactory(Options.Create(new LocalizationOptions()), NullLoggerFactory.Instance));

    private static OrderDto Paused() => new(1, "u@x", "paused", DateTime.UtcNow, OrderStatus.Paused, DateTime.UtcNow, null,
        40, 0, 2, true, 500, 5, 5, null, [], []);

    private static SubOrderFacts Part(int part, SubOrderJobState state, bool waiting = false) =>
        new(part * 10, part, state, waiting, false, waiting ? 2 : 0, waiting ? 200 : 0);

    private static OrderSituation Of(params SubOrderFacts[] parts) =>
        OrderSituation.Of(Paused(), parts, [], 2, default, DateTime.UtcNow, TimeZoneInfo.Utc);

    private static async Task<string> DescribeAsync(string language, OrderSituation situation)
    {
        var text = "";
        await TestCulture.RunAsync(language, () =>
        {
            text = Words.Describe(situation);
            return Task.CompletedTask;
        });
        return text;
    }

    [Theory]
    [InlineData("en", "Paused before part 3 of 5: resume the order to go on preparing its files")]
    [InlineData("fr", "En pause avant la partie 3 sur 5 : reprenez la commande pour poursuivre la préparation de ses fichiers")]
    public async Task A_paused_order_says_which_part_comes_next(string language, string expected)
    {
        // Part 1 downloaded, part 2 prepared and waiting for the user, parts 3 to 5 suspended by the pause.
        var situation = Of(Part(1, SubOrderJobState.Ended), Part(2, SubOrderJobState.Staged, waiting: true),
            Part(3, SubOrderJobState.Suspended), Part(4, SubOrderJobState.Suspended), Part(5, SubOrderJobState.Suspended));
        Assert.Equal(OrderSituationKind.Paused, situation.Kind);
        Assert.Equal(3, situation.NextPart);
        Assert.Equal(expected, await DescribeAsync(language, situation));
    }

    [Fact]
    public async Task The_first_part_not_yet_prepared_comes_next_whatever_the_order_of_the_facts()
    {
        // The facts come in any order; the parts' numbers tell the sequence.
        var situation = Of(Part(3, SubOrderJobState.Suspended), Part(1, SubOrderJobState.Ended), Part(2, SubOrderJobState.Suspended));
        Assert.Equal(2, situation.NextPart);
        Assert.Equal("Paused before part 2 of 3: resume the order to go on preparing its files", await DescribeAsync("en", situation));
    }

    [Theory]
    [InlineData("en", "Paused: resume the order to go on preparing its files")]
    [InlineData("fr", "En pause : reprenez la commande pour poursuivre la préparation de ses fichiers")]
    public async Task A_single_part_or_every_part_prepared_names_no_next_part(string language, string expected)
    {
        var single = Of(Part(1, SubOrderJobState.Suspended));
        var prepared = Of(Part(1, SubOrderJobState.Ended), Part(2, SubOrderJobState.Staged, waiting: true));
        Assert.Null(single.NextPart);
        Assert.Null(prepared.NextPart);
        Assert.Equal(expected, await DescribeAsync(language, single));
        Assert.Equal(expected, await DescribeAsync(language, prepared));
    }
}
