using Microsoft.Extensions.Time.Testing;
using Regards.Portal.Infrastructure;
using Regards.Portal.Orders;
using static Regards.Portal.Orders.OrderStatus;
using static Regards.Portal.Orders.SubOrderJobState;

namespace Regards.Portal.Tests.Orders;

/// <summary>The order and sub-order entities change state only through their methods, each following the transition tables.</summary>
[Trait("Tier", "Fast")]
public sealed class OrderAggregateTests
{
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    private Order OrderIn(OrderStatus status, bool completed = true, bool waiting = false) => new()
    {
        Owner = "u@x", Label = "l", CreationDate = Now, Status = status, StatusDate = Now, CompletionDate = completed ? Now : null,
        WaitingForUser = waiting, AvailableFilesCount = waiting ? 2 : 0, LeaseOwner = "engine-1", LeaseExpiresAt = Now.AddSeconds(30),
    };

    private static OrderFigures Figures(int files, int pending, int available, int inError = 0, int zippable = -1, long total = 1000, long done = -1) =>
        new(files, pending, available, zippable < 0 ? available : zippable, inError, total, done < 0 ? total : done);

    [Fact]
    public void A_placed_order_is_pending_from_now_with_its_cart()
    {
        var order = Order.Place("u@x", "my order", basketId: 7, isApplicationOrder: true, Now);
        Assert.Equal((Pending, Now, Now, 7L, true), (order.Status, order.CreationDate, order.StatusDate, order.BasketId, order.IsApplicationOrder));
        Assert.Null(order.CompletionDate);
    }

    [Fact]
    public void Pause_and_resume_move_the_status_and_date_and_resume_before_completion_goes_back_to_pending()
    {
        var order = OrderIn(Running);
        clock.Advance(TimeSpan.FromMinutes(5));
        order.Pause(Now);
        Assert.Equal((Paused, Now), (order.Status, order.StatusDate));
        clock.Advance(TimeSpan.FromMinutes(5));
        order.Resume(Now);
        Assert.Equal((Running, Now), (order.Status, order.StatusDate));

        var early = OrderIn(Pending, completed: false);
        early.Pause(Now);
        early.Resume(Now);
        Assert.Equal(Pending, early.Status);
    }

    [Theory]
    [InlineData(Pending)]
    [InlineData(Running)]
    [InlineData(Paused)]
    [InlineData(Done)]
    [InlineData(DoneWithWarning)]
    [InlineData(Failed)]
    [InlineData(Expired)]
    [InlineData(Error)]
    public void Cancel_deletes_any_live_order_and_it_waits_for_no_one(OrderStatus status)
    {
        var order = OrderIn(status, waiting: true);
        order.Delete(OrderAction.Cancel, Now);
        Assert.Equal(Deleted, order.Status);
        Assert.False(order.WaitingForUser);
        Assert.Null(order.LeaseOwner);
    }

    [Fact]
    public void Delete_of_the_api_keeps_regards_rule_a_running_order_is_refused_and_unchanged()
    {
        var order = OrderIn(Running, waiting: true);
        var refusal = Assert.Throws<PortalException>(() => order.Delete(OrderAction.Delete, Now));
        Assert.Equal("ORDER_MUST_BE_DONE_OR_DONE_WITH_WARNING_OR_PAUSED_OR_FAILED_OR_EXPIRED", refusal.Code);
        Assert.Equal((Running, true), (order.Status, order.WaitingForUser));

        var done = OrderIn(Done, waiting: true);
        done.Delete(OrderAction.Delete, Now);
        Assert.Equal((Deleted, false), (done.Status, done.WaitingForUser));
        Assert.Throws<ArgumentOutOfRangeException>(() => OrderIn(Done).Delete(OrderAction.Pause, Now));
    }

    [Fact]
    public void Retry_runs_again_and_forgets_the_old_message()
    {
        var order = new Order { Owner = "u", Label = "l", Status = DoneWithWarning, Message = "2 files failed" };
        order.Retry(Now);
        Assert.Equal(Running, order.Status);
        Assert.Null(order.Message);
        Assert.Equal("ORDER_MUST_BE_DONE_WITH_WARNING_OR_FAILED", Assert.Throws<PortalException>(() => OrderIn(Done).Retry(Now)).Code);
    }

    [Fact]
    public void Extending_the_expiration_needs_a_live_order_and_a_future_date_and_rearms_the_warning()
    {
        var order = new Order { Owner = "u", Label = "l", Status = Done, ExpirationDate = Now.AddDays(1), ExpiryWarningSent = true };
        order.ExtendExpiration(Now.AddDays(10), Now);
        Assert.Equal(Now.AddDays(10), order.ExpirationDate);
        Assert.False(order.ExpiryWarningSent);
        Assert.Equal("BAD_EXPIRATION", Assert.Throws<PortalException>(() => order.ExtendExpiration(Now, Now)).Code);
        Assert.Equal("ORDER_IS_FINAL", Assert.Throws<PortalException>(() => OrderIn(Expired).ExtendExpiration(Now.AddDays(1), Now)).Code);
    }

    [Theory]
    [InlineData(OrderAction.CompletionCreatedSubOrders, Running)]
    [InlineData(OrderAction.CompletionExternalOnly, Done)]
    [InlineData(OrderAction.CompletionFoundNothing, DoneWithWarning)]
    [InlineData(OrderAction.CompletionFailed, Failed)]
    public void Completion_sets_the_figures_and_gives_the_lease_back(OrderAction outcome, OrderStatus expected)
    {
        var order = OrderIn(Pending, completed: false);
        clock.Advance(TimeSpan.FromSeconds(3));
        order.Complete(outcome, objects: 3, files: 5, size: 500, expiration: Now.AddDays(7), text: "note", Now);
        Assert.Equal((expected, Now, Now, Now.AddDays(7)), (order.Status, order.StatusDate, order.CompletionDate, order.ExpirationDate));
        Assert.Equal((3, 5, 500L, "note"), (order.ObjectsCount, order.FilesCount, order.TotalSize, order.Message));
        Assert.Null(order.LeaseOwner);
        Assert.Null(order.LeaseExpiresAt);
    }

    [Fact]
    public void An_order_paused_during_its_completion_stays_paused_unless_the_completion_ended_it()
    {
        var paused = OrderIn(Paused, completed: false);
        paused.Complete(OrderAction.CompletionCreatedSubOrders, 1, 1, 1, Now.AddDays(1), null, Now);
        Assert.Equal(Paused, paused.Status);
        var failed = OrderIn(Paused, completed: false);
        failed.Complete(OrderAction.CompletionFailed, 0, 0, 0, Now.AddDays(1), "x", Now);
        Assert.Equal(Failed, failed.Status);
        Assert.Equal("ORDER_MUST_BE_PENDING", Assert.Throws<PortalException>(() => OrderIn(Running).Complete(OrderAction.CompletionFailed, 0, 0, 0, Now, null, Now)).Code);
    }

    [Theory]
    [InlineData(0, Done)]
    [InlineData(2, DoneWithWarning)]
    [InlineData(10, Failed)]
    public void Progress_stores_the_figures_and_at_100_percent_ends_the_order(int inError, OrderStatus expected)
    {
        var order = OrderIn(Running);
        Assert.False(order.ApplyProgress(Figures(10, pending: 4, available: 3, total: 1000, done: 600), anySubOrderWaiting: true, Now));
        Assert.Equal((Running, 60, 3, 3, true), (order.Status, order.PercentCompleted, order.AvailableFilesCount, order.ZippableFilesCount, order.WaitingForUser));

        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(order.ApplyProgress(Figures(10, pending: 0, available: 10 - inError, inError: inError, zippable: 1), anySubOrderWaiting: inError < 10, Now));
        Assert.Equal((expected, Now, 100, inError, 1), (order.Status, order.StatusDate, order.PercentCompleted, order.FilesInErrorCount, order.ZippableFilesCount));
    }

    [Fact]
    public void A_deleted_order_keeps_figures_true_to_its_files_and_waits_for_no_one()
    {
        var order = OrderIn(Deleted, waiting: false);
        Assert.False(order.ApplyProgress(Figures(4, 0, 3, zippable: 2), anySubOrderWaiting: true, Now));
        Assert.Equal((Deleted, false, 3, 2, 100), (order.Status, order.WaitingForUser, order.AvailableFilesCount, order.ZippableFilesCount, order.PercentCompleted));
    }

    [Theory]
    [InlineData(Expired)]
    [InlineData(Error)]
    public void An_expired_or_broken_order_keeps_its_figures_and_waits_for_no_one(OrderStatus status)
    {
        var order = OrderIn(status);
        Assert.False(order.ApplyProgress(Figures(4, 0, 4), anySubOrderWaiting: true, Now));
        Assert.Equal((status, false, 0), (order.Status, order.WaitingForUser, order.AvailableFilesCount));
    }

    [Fact]
    public void A_completion_that_never_finished_is_given_up_as_error_and_can_then_be_cancelled()
    {
        var order = new Order { Owner = "u", Label = "l", Status = Pending, CompletionAttempts = Order.MaxCompletionAttempts, LeaseOwner = "engine-1" };
        order.GiveUpCompletion(Now);
        Assert.Equal((Error, Now), (order.Status, order.StatusDate));
        Assert.Contains($"after {Order.MaxCompletionAttempts} attempts", order.Message);
        Assert.Null(order.LeaseOwner);
        order.Delete(OrderAction.Cancel, Now);
        Assert.Equal(Deleted, order.Status);
    }

    // ---- Sub-orders: the expected table, written independently of the implementation ----

    private static readonly Dictionary<SubOrderAction, (SubOrderJobState[] From, SubOrderJobState To)> ExpectedSubOrders = new()
    {
        [SubOrderAction.Claim] = ([Queued, Staging], Staging),
        [SubOrderAction.Staged] = ([Staging], Staged),
        [SubOrderAction.GiveBack] = ([Staging], Queued),
        [SubOrderAction.StopStaging] = ([Staging], Suspended),
        [SubOrderAction.Suspend] = ([Queued], Suspended),
        [SubOrderAction.Requeue] = ([Suspended], Queued),
        [SubOrderAction.FilesFinal] = ([Queued, Suspended, Staged], Ended),
        [SubOrderAction.Close] = ([Queued, Staging, Staged, Suspended], Ended),
    };

    public static TheoryData<SubOrderJobState, SubOrderAction> SubOrderPairs()
    {
        var data = new TheoryData<SubOrderJobState, SubOrderAction>();
        foreach (var state in Enum.GetValues<SubOrderJobState>())
        {
            foreach (var action in Enum.GetValues<SubOrderAction>())
            {
                data.Add(state, action);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SubOrderPairs))]
    public void Every_sub_order_state_and_action_pair_is_allowed_or_refused(SubOrderJobState state, SubOrderAction action)
    {
        var (from, to) = ExpectedSubOrders[action];
        if (from.Contains(state))
        {
            Assert.Equal(to, SubOrderStateMachine.Apply(state, action));
        }
        else
        {
            Assert.False(SubOrderStateMachine.Allows(state, action));
            Assert.Throws<InvalidOperationException>(() => SubOrderStateMachine.Apply(state, action));
        }
    }

    private SubOrder SubOrderIn(SubOrderJobState state, bool external = false) => new()
    {
        OrderId = 1, Owner = "u@x", Sequence = 1, External = external, JobState = state, QueuedAt = Now, LeaseOwner = "engine-1", LeaseExpiresAt = Now.AddSeconds(30),
    };

    [Fact]
    public void A_staged_sub_order_waits_for_the_user_once_nothing_is_pending_and_says_so_only_the_first_time()
    {
        var sub = SubOrderIn(Staged);
        Assert.False(sub.Observe(pending: 2, available: 3, Now));
        Assert.False(sub.WaitingForUser);
        var firstWait = Now.AddMinutes(1);
        Assert.True(sub.Observe(pending: 0, available: 5, firstWait));
        Assert.True(sub.WaitingForUser);
        Assert.False(sub.Observe(pending: 0, available: 4, firstWait.AddMinutes(1)));
        Assert.Equal(firstWait, sub.StagedAt);
    }

    [Theory]
    [InlineData(Queued, false)]
    [InlineData(Staging, false)]
    [InlineData(Suspended, false)]
    [InlineData(Staged, true)]
    public void Only_a_staged_internal_sub_order_waits_for_the_user(SubOrderJobState state, bool waits)
    {
        Assert.Equal(waits, SubOrderIn(state).Observe(0, 2, Now));
        Assert.False(SubOrderIn(state, external: true).Observe(0, 2, Now));
    }

    [Theory]
    [InlineData(Queued)]
    [InlineData(Suspended)]
    [InlineData(Staged)]
    public void A_sub_order_with_nothing_pending_or_available_ends_and_gives_its_slot_back(SubOrderJobState state)
    {
        var sub = SubOrderIn(state);
        sub.Observe(0, 1, Now);
        sub.Observe(0, 0, Now);
        Assert.Equal((Ended, true, false), (sub.JobState, sub.Ended, sub.WaitingForUser));
        Assert.Null(sub.LeaseOwner);
    }

    [Fact]
    public void A_staging_job_is_never_ended_by_the_progress_its_lease_decides()
    {
        var sub = SubOrderIn(Staging);
        sub.Observe(0, 0, Now);
        Assert.Equal((Staging, false, "engine-1"), (sub.JobState, sub.Ended, sub.LeaseOwner));
    }
}
