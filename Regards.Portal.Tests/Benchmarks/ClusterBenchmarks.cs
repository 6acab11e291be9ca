using System.Globalization;
using Regards.Portal.Data;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Benchmarks;

/// <summary>
/// issue 16's figures: P6 on PostgreSQL with one instance and with three instances sharing the database (in one
/// process, so on the same 2 cores), next to P6 on SQLite. Run by <c>.ci/bench.sh</c>, not by the test command.
/// </summary>
[Trait("Category", BenchmarkReport.Category)]
[Collection(BenchmarkReport.Category)]
public sealed class ClusterBenchmarks
{
    private static string F(double value, string format = "0.00") => value.ToString(format, CultureInfo.InvariantCulture);

    [Fact]
    public async Task P6_on_PostgreSQL_with_one_and_with_three_instances()
    {
        var users = int.Parse(Environment.GetEnvironmentVariable("REGARDS_P6_USERS") ?? "100", CultureInfo.InvariantCulture);
        TimeSpan one, three;
        int total;
        using (var single = P6Workload.Factory(DatabaseProvider.PostgreSql))
        {
            (total, _) = await P6Workload.SeedAsync(single, users);
            one = await P6Workload.StageAllAsync(single, [single]);
        }
        using (var first = P6Workload.Factory(DatabaseProvider.PostgreSql))
        {
            await P6Workload.SeedAsync(first, users);
            using var second = first.SecondInstance();
            using var third = first.SecondInstance();
            _ = second.Services;
            _ = third.Services;
            three = await P6Workload.StageAllAsync(first, [first, second, third]);
        }
        var rateOne = total / one.TotalSeconds;
        var rateThree = total / three.TotalSeconds;
        var size = $"{users} users, {users * P6Workload.OrdersPerUser} orders, {total} online sub-orders";
        BenchmarkReport.Record("P6-PG", "staging engine overhead, PostgreSQL, 1 instance", size,
            $"{F(one.TotalMilliseconds / total)} ms/sub-order ({F(rateOne, "0")} sub-orders/s)", "5 ms target", one.TotalMilliseconds / total / 5, "< 5 ms");
        BenchmarkReport.Record("P6-PG3", "staging engine overhead, PostgreSQL, 3 instances", size,
            $"{F(three.TotalMilliseconds / total)} ms/sub-order ({F(rateThree, "0")} sub-orders/s)", $"1 instance: {F(rateOne, "0")} sub-orders/s",
            rateThree / rateOne, "ratio 3/1 (same 2 cores)");
    }
}
