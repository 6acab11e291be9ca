namespace Regards.Portal.Orders;

/// <summary>Everything that can happen to an order: user/admin actions and the engine's own moves.</summary>
public enum OrderAction
{
    Pause,
    Resume,
    Delete,
    /// <summary>The pages' "Cancel order": DELETED from any state but DELETED (ERROR included, so it can be cleaned up), at once (the engine's writes are fenced by their leases).</summary>
    Cancel,
    Remove,
    Retry,
    Restart,
    ExtendExpiration,
    Download,
    Metalink,
    CompletionFailed,
    CompletionFoundNothing,
    CompletionExternalOnly,
    CompletionCreatedSubOrders,
    ProgressReachedHundred,
    DownloadFailed,
    /// <summary>The file a cut download had put in DOWNLOAD_ERROR reached its user after all (a segmented client's other
    /// connections, idle at the cut, fetched the rest): with no file left in error, the order is DONE again.</summary>
    DownloadRecovered,
    Expire,
    InternalFailure,
}

public sealed record Transition(IReadOnlySet<OrderStatus> From, OrderStatus? To, string RefusalCode);

/// <summary>
/// The one explicit transition table of orders.md §3.3. Every action of the services, every move of the engine,
/// the API's <c>links</c> and the buttons of the pages ask it. <c>To</c> is null when the target depends on
/// the order's files (progress at 100 %: DONE / DONE_WITH_WARNING / FAILED) or when the row disappears (remove).
/// </summary>
public static class OrderStateMachine
{
    private static readonly OrderStatus[] All = Enum.GetValues<OrderStatus>();

    private static HashSet<OrderStatus> S(params OrderStatus[] statuses) => [.. statuses];

    public static readonly IReadOnlyDictionary<OrderAction, Transition> Table = new Dictionary<OrderAction, Transition>
    {
        [OrderAction.Pause] = new(S(OrderStatus.Pending, OrderStatus.Running), OrderStatus.Paused, "ORDER_MUST_BE_PENDING_OR_RUNNING"),
        [OrderAction.Resume] = new(S(OrderStatus.Paused), OrderStatus.Running, "ORDER_MUST_BE_PAUSED"),
        [OrderAction.Delete] = new(S(OrderStatus.Done, OrderStatus.DoneWithWarning, OrderStatus.Paused, OrderStatus.Expired, OrderStatus.Failed), OrderStatus.Deleted,
            "ORDER_MUST_BE_DONE_OR_DONE_WITH_WARNING_OR_PAUSED_OR_FAILED_OR_EXPIRED"),
        [OrderAction.Cancel] = new(S(OrderStatus.Pending, OrderStatus.Running, OrderStatus.Paused, OrderStatus.Done, OrderStatus.DoneWithWarning, OrderStatus.Expired, OrderStatus.Failed, OrderStatus.Error), OrderStatus.Deleted,
            "ORDER_CANNOT_BE_CANCELLED"),
        [OrderAction.Remove] = new(S(OrderStatus.Deleted), null, "ORDER_MUST_BE_DELETED"),
        [OrderAction.Retry] = new(S(OrderStatus.DoneWithWarning, OrderStatus.Failed), OrderStatus.Running, "ORDER_MUST_BE_DONE_WITH_WARNING_OR_FAILED"),
        [OrderAction.Restart] = new(S(OrderStatus.Done, OrderStatus.DoneWithWarning, OrderStatus.Failed), null, "ORDER_MUST_BE_DONE_OR_DONE_WITH_WARNING_OR_FAILED"),
        [OrderAction.ExtendExpiration] = new(S(OrderStatus.Pending, OrderStatus.Running, OrderStatus.Paused, OrderStatus.Done, OrderStatus.DoneWithWarning), null, "ORDER_IS_FINAL"),
        [OrderAction.Download] = new(S(OrderStatus.Running, OrderStatus.Paused, OrderStatus.Done, OrderStatus.DoneWithWarning), null, "ORDER_HAS_NO_AVAILABLE_FILE"),
        [OrderAction.Metalink] = new(S(OrderStatus.Running, OrderStatus.Paused, OrderStatus.Done, OrderStatus.DoneWithWarning), null, "ORDER_HAS_NO_METALINK"),
        [OrderAction.CompletionFailed] = new(S(OrderStatus.Pending, OrderStatus.Paused), OrderStatus.Failed, "ORDER_MUST_BE_PENDING"),
        [OrderAction.CompletionFoundNothing] = new(S(OrderStatus.Pending, OrderStatus.Paused), OrderStatus.DoneWithWarning, "ORDER_MUST_BE_PENDING"),
        [OrderAction.CompletionExternalOnly] = new(S(OrderStatus.Pending, OrderStatus.Paused), OrderStatus.Done, "ORDER_MUST_BE_PENDING"),
        [OrderAction.CompletionCreatedSubOrders] = new(S(OrderStatus.Pending), OrderStatus.Running, "ORDER_MUST_BE_PENDING"),
        [OrderAction.ProgressReachedHundred] = new(S(OrderStatus.Running, OrderStatus.Paused), null, "ORDER_MUST_BE_RUNNING"),
        [OrderAction.DownloadFailed] = new(S(OrderStatus.Done), OrderStatus.DoneWithWarning, "ORDER_MUST_BE_DONE"),
        [OrderAction.DownloadRecovered] = new(S(OrderStatus.DoneWithWarning), OrderStatus.Done, "ORDER_MUST_BE_DONE_WITH_WARNING"),
        [OrderAction.Expire] = new(S(OrderStatus.Pending, OrderStatus.Running, OrderStatus.Paused, OrderStatus.Done, OrderStatus.DoneWithWarning), OrderStatus.Expired, "ORDER_CANNOT_EXPIRE"),
        [OrderAction.InternalFailure] = new(S(All), OrderStatus.Error, "NEVER_REFUSED"),
    };

    public static bool Allows(OrderStatus status, OrderAction action) => Table[action].From.Contains(status);

    /// <summary>The target status, or a 409 <see cref="Infrastructure.PortalException"/> with the refusal code.</summary>
    public static OrderStatus? Apply(OrderStatus status, OrderAction action)
    {
        var transition = Table[action];
        if (!transition.From.Contains(status))
        {
            throw Infrastructure.PortalException.Conflict(transition.RefusalCode, $"This action is not possible while the order is {status}.");
        }
        return transition.To;
    }

    /// <summary>Target of <see cref="OrderAction.ProgressReachedHundred"/>: no error → DONE, every file in error → FAILED, else DONE_WITH_WARNING.</summary>
    public static OrderStatus Finished(int filesCount, int filesInError) =>
        filesInError == 0 ? OrderStatus.Done : filesInError >= filesCount ? OrderStatus.Failed : OrderStatus.DoneWithWarning;

    /// <summary>The actions a caller may take now; the API's <c>links</c> and the enabled buttons come from here.</summary>
    public static IReadOnlyList<OrderAction> AllowedActions(Order order, bool callerIsAdmin, bool hasProcessing = false)
    {
        var actions = new List<OrderAction>();
        foreach (var action in new[] { OrderAction.Pause, OrderAction.Resume, OrderAction.Delete, OrderAction.Remove, OrderAction.Retry, OrderAction.Restart, OrderAction.ExtendExpiration, OrderAction.Metalink, OrderAction.Download })
        {
            if (!Allows(order.Status, action))
            {
                continue;
            }
            var allowed = action switch
            {
                OrderAction.Remove or OrderAction.ExtendExpiration => callerIsAdmin,
                OrderAction.Retry => !hasProcessing,
                // The zip holds AVAILABLE files that are not external links; with none it would answer 204.
                OrderAction.Download => order.ZippableFilesCount > 0,
                _ => true,
            };
            if (allowed)
            {
                actions.Add(action);
            }
        }
        return actions;
    }
}

/// <summary>Everything that happens to a sub-order (a staging job).</summary>
public enum SubOrderAction
{
    /// <summary>An engine instance takes it (a queued one, or one whose staging lease expired).</summary>
    Claim,
    /// <summary>Its files are staged (or in error): it holds the user's slot while they wait for download.</summary>
    Staged,
    /// <summary>The instance shuts down: the job goes back to the queue at once.</summary>
    GiveBack,
    /// <summary>Its order was paused while it staged.</summary>
    StopStaging,
    /// <summary>Its order was paused while it waited in the queue.</summary>
    Suspend,
    /// <summary>Its order was resumed.</summary>
    Requeue,
    /// <summary>Nothing of it is pending or available any more.</summary>
    FilesFinal,
    /// <summary>Its order was deleted or expired.</summary>
    Close,
}

/// <summary>The transition table of sub-orders; <see cref="SubOrder"/> and <see cref="OrderBulk"/> consult it.</summary>
public static class SubOrderStateMachine
{
    private static HashSet<SubOrderJobState> S(params SubOrderJobState[] states) => [.. states];

    public static readonly IReadOnlyDictionary<SubOrderAction, (IReadOnlySet<SubOrderJobState> From, SubOrderJobState To)> Table =
        new Dictionary<SubOrderAction, (IReadOnlySet<SubOrderJobState>, SubOrderJobState)>
        {
            [SubOrderAction.Claim] = (S(SubOrderJobState.Queued, SubOrderJobState.Staging), SubOrderJobState.Staging),
            [SubOrderAction.Staged] = (S(SubOrderJobState.Staging), SubOrderJobState.Staged),
            [SubOrderAction.GiveBack] = (S(SubOrderJobState.Staging), SubOrderJobState.Queued),
            [SubOrderAction.StopStaging] = (S(SubOrderJobState.Staging), SubOrderJobState.Suspended),
            [SubOrderAction.Suspend] = (S(SubOrderJobState.Queued), SubOrderJobState.Suspended),
            [SubOrderAction.Requeue] = (S(SubOrderJobState.Suspended), SubOrderJobState.Queued),
            [SubOrderAction.FilesFinal] = (S(SubOrderJobState.Queued, SubOrderJobState.Suspended, SubOrderJobState.Staged), SubOrderJobState.Ended),
            [SubOrderAction.Close] = (S(SubOrderJobState.Queued, SubOrderJobState.Staging, SubOrderJobState.Staged, SubOrderJobState.Suspended), SubOrderJobState.Ended),
        };

    public static bool Allows(SubOrderJobState state, SubOrderAction action) => Table[action].From.Contains(state);

    /// <summary>The states a bulk move may start from (for its WHERE clause).</summary>
    public static List<SubOrderJobState> From(SubOrderAction action) => [.. Table[action].From];

    public static SubOrderJobState To(SubOrderAction action) => Table[action].To;

    public static SubOrderJobState Apply(SubOrderJobState state, SubOrderAction action) =>
        Allows(state, action) ? Table[action].To : throw new InvalidOperationException($"A sub-order cannot {action} while {state}.");
}
