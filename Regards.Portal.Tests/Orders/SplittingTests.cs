using Regards.Portal.Orders;

namespace Regards.Portal.Tests.Orders;

[Trait("Tier", "Fast")]
public sealed class SplittingTests
{
    private static List<List<long>> Split(IEnumerable<long> sizes, int maxFiles, long maxBytes)
    {
        var splitter = new SubOrderSplitter(maxFiles, maxBytes);
        var result = new List<List<long>>();
        foreach (var size in sizes)
        {
            var startsNew = result.Count == 0 || splitter.NeedsNewSubOrder(size, out _);
            if (startsNew)
            {
                result.Add([]);
            }
            splitter.Add(size, startsNew);
            result[^1].Add(size);
        }
        return result;
    }

    [Fact]
    public void Sub_orders_hold_at_most_max_files()
    {
        var groups = Split(Enumerable.Repeat(1L, 12), maxFiles: 5, maxBytes: 1000);
        Assert.Equal([5, 5, 2], groups.Select(g => g.Count));
    }

    [Fact]
    public void Sub_orders_hold_at_most_max_bytes()
    {
        var groups = Split([40, 40, 40, 10, 60], maxFiles: 100, maxBytes: 100);
        Assert.Equal([[40, 40], [40, 10], [60]], groups);
    }

    [Fact]
    public void A_file_larger_than_the_limit_gets_a_sub_order_of_its_own()
    {
        var groups = Split([10, 500, 10, 10], maxFiles: 100, maxBytes: 100);
        Assert.Equal([[10], [500], [10, 10]], groups);
    }

    [Theory]
    [InlineData(0, 240, 168, 168)]   // no internal sub-order: D, capped
    [InlineData(0, 2, 168, 2)]
    [InlineData(1, 2, 168, 6)]       // (1 + 2) × 2
    [InlineData(10, 2, 168, 24)]     // (10 + 2) × 2
    [InlineData(100, 2, 168, 168)]   // capped
    [InlineData(3, 240, 10_000, 1200)]
    public void Expiration_follows_the_formula_and_the_cap(int internalSubOrders, int duration, int max, int expectedHours) =>
        Assert.Equal(TimeSpan.FromHours(expectedHours), SubOrderSplitter.Expiration(internalSubOrders, duration, max));
}
