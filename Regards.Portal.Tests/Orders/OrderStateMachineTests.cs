using Regards.Portal.Infrastructure;
using Regards.Portal.Orders;
using static Regards.Portal.Orders.OrderStatus;

namespace Regards.Portal.Tests.Orders;

/// <summary>Every (status, action) pair of orders.md §3.3, allowed or refused with its exact code.</summary>
[Trait("Tier", "Fast")]
public sealed class OrderStateMachineTests
{
    // The expected table, written independently of the implementation: action → (allowed from → to), refusal code.
    private static readonly Dictionary<OrderAction, (Dictionary<OrderStatus, OrderStatus?> Allowed, string Code)> Expected = new()
    {
        [OrderAction.Pause] = (new() { [Pending] = Paused, [Running] = Paused }, "ORDER_MUST_BE_PENDING_OR_RUNNING"),
        [OrderAction.Resume] = (new() { [Paused] = Running }, "ORDER_MUST_BE_PAUSED"),
        [OrderAction.Delete] = (new() { [Done] = Deleted, [DoneWithWarning] = Deleted, [Paused] = Deleted, [Expired] = Deleted, [Failed] = Deleted },
            "ORDER_MUST_BE_DONE_OR_DONE_WITH_WARNING_OR_PAUSED_OR_FAILED_OR_EXPIRED"),
        [OrderAction.Cancel] = (new() { [Pending] = Deleted, [Running] = Deleted, [Paused] = Deleted, [Done] = Deleted, [DoneWithWarning] = Deleted, [Expired] = Deleted, [Failed] = Deleted, [Error] = Deleted },
            "ORDER_CANNOT_BE_CANCELLED"),
        [OrderAction.Remove] = (new() { [Deleted] = null }, "ORDER_MUST_BE_DELETED"),
        [OrderAction.Retry] = (new() { [DoneWithWarning] = Running, [Failed] = Running }, "ORDER_MUST_BE_DONE_WITH_WARNING_OR_FAILED"),
        [OrderAction.Restart] = (new() { [Done] = null, [DoneWithWarning] = null, [Failed] = null }, "ORDER_MUST_BE_DONE_OR_DONE_WITH_WARNING_OR_FAILED"),
        [OrderAction.ExtendExpiration] = (new() { [Pending] = null, [Running] = null, [Paused] = null, [Done] = null, [DoneWithWarning] = null }, "ORDER_IS_FINAL"),
        [OrderAction.Download] = (new() { [Running] = null, [Paused] = null, [Done] = null, [DoneWithWarning] = null }, "ORDER_HAS_NO_AVAILABLE_FILE"),
        [OrderAction.Metalink] = (new() { [Running] = null, [Paused] = null, [Done] = null, [DoneWithWarning] = null }, "ORDER_HAS_NO_METALINK"),
        [OrderAction.CompletionFailed] = (new() { [Pending] = Failed, [Paused] = Failed }, "ORDER_MUST_BE_PENDING"),
        [OrderAction.CompletionFoundNothing] = (new() { [Pending] = DoneWithWarning, [Paused] = DoneWithWarning }, "ORDER_MUST_BE_PENDING"),
        [OrderAction.CompletionExternalOnly] = (new() { [Pending] = Done, [Paused] = Done }, "ORDER_MUST_BE_PENDING"),
        [OrderAction.CompletionCreatedSubOrders] = (new() { [Pending] = Running }, "ORDER_MUST_BE_PENDING"),
        [OrderAction.ProgressReachedHundred] = (new() { [Running] = null, [Paused] = null }, "ORDER_MUST_BE_RUNNING"),
        [OrderAction.DownloadFailed] = (new() { [Done] = DoneWithWarning }, "ORDER_MUST_BE_DONE"),
        [OrderAction.DownloadRecovered] = (new() { [DoneWithWarning] = Done }, "ORDER_MUST_BE_DONE_WITH_WARNING"),
        [OrderAction.Expire] = (new() { [Pending] = Expired, [Running] = Expired, [Paused] = Expired, [Done] = Expired, [DoneWithWarning] = Expired }, "ORDER_CANNOT_EXPIRE"),
        [OrderAction.InternalFailure] = (Enum.GetValues<OrderStatus>().ToDictionary(s => s, _ => (OrderStatus?)Error), "NEVER_REFUSED"),
    };

    public static TheoryData<OrderStatus, OrderAction> AllPairs()
    {
        var data = new TheoryData<OrderStatus, OrderAction>();
        foreach (var status in Enum.GetValues<OrderStatus>())
        {
            foreach (var action in Enum.GetValues<OrderAction>())
            {
                data.Add(status, action);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void Every_status_and_action_pair_is_allowed_or_refused_as_the_spec_says(OrderStatus status, OrderAction action)
    {
        var (allowed, code) = Expected[action];
        if (allowed.TryGetValue(status, out var target))
        {
            Assert.True(OrderStateMachine.Allows(status, action));
            Assert.Equal(target, OrderStateMachine.Apply(status, action));
        }
        else
        {
            Assert.False(OrderStateMachine.Allows(status, action));
            var refusal = Assert.Throws<PortalException>(() => OrderStateMachine.Apply(status, action));
            Assert.Equal(409, refusal.Status);
            Assert.Equal(code, refusal.Code);
        }
    }

    [Fact]
    public void The_table_covers_every_action()
    {
        Assert.Equal(Enum.GetValues<OrderAction>().Order(), OrderStateMachine.Table.Keys.Order());
    }

    [Theory]
    [InlineData(10, 0, Done)]
    [InlineData(10, 3, DoneWithWarning)]
    [InlineData(10, 10, Failed)]
    public void Reaching_100_percent_gives_done_warning_or_failed_from_the_errors(int files, int errors, OrderStatus expected) =>
        Assert.Equal(expected, OrderStateMachine.Finished(files, errors));

    [Theory]
    [InlineData(Running, 3, false, new[] { "Pause", "Metalink", "Download" })]
    [InlineData(Running, 0, false, new[] { "Pause", "Metalink" })]
    [InlineData(Paused, 0, false, new[] { "Resume", "Delete", "Metalink" })]
    [InlineData(Deleted, 0, true, new[] { "Remove" })]
    [InlineData(Deleted, 0, false, new string[0])]
    [InlineData(DoneWithWarning, 2, true, new[] { "Delete", "Retry", "Restart", "ExtendExpiration", "Metalink", "Download" })]
    [InlineData(Pending, 0, false, new[] { "Pause" })]
    public void Allowed_actions_for_a_caller_follow_the_table_roles_and_available_files(OrderStatus status, int available, bool admin, string[] expected)
    {
        var order = new Order { Owner = "u", Label = "l", Status = status, AvailableFilesCount = available, ZippableFilesCount = available };
        Assert.Equal(expected, OrderStateMachine.AllowedActions(order, admin).Select(a => a.ToString()));
    }

    [Fact]
    public void Download_is_not_offered_when_the_only_available_files_are_external_links()
    {
        // The zip holds no external file (links): with only those available it would answer 204.
        var order = new Order { Owner = "u", Label = "l", Status = Done, AvailableFilesCount = 3, ZippableFilesCount = 0 };
        Assert.DoesNotContain(OrderAction.Download, OrderStateMachine.AllowedActions(order, false));
        Assert.Contains(OrderAction.Metalink, OrderStateMachine.AllowedActions(order, false));
    }

    [Fact]
    public void Retry_is_not_offered_for_an_order_with_a_processing()
    {
        var order = new Order { Owner = "u", Label = "l", Status = Failed };
        Assert.DoesNotContain(OrderAction.Retry, OrderStateMachine.AllowedActions(order, false, hasProcessing: true));
    }
}
