namespace Regards.Portal.Orders;

/// <summary>What is happening to an order, told to its user (My orders, the detail page): one kind and its figures.</summary>
public enum OrderSituationKind
{
    /// <summary>PENDING: the engine is listing its files and cutting it into parts.</summary>
    Completing,
    /// <summary>Parts wait for a preparation slot that the user's other orders hold.</summary>
    QueuedBehindOtherOrders,
    /// <summary>Parts wait for a slot that is free: the engine takes them at its next round.</summary>
    QueuedStartsShortly,
    /// <summary>Parts are being prepared (restored from tape when nearline).</summary>
    Staging,
    /// <summary>Prepared parts wait for their user: downloading them frees the slots for the next parts.</summary>
    WaitingForUser,
    Paused,
    /// <summary>RUNNING with nothing queued, staged or waiting: the last figures are being written.</summary>
    Finishing,
    /// <summary>DONE or DONE_WITH_WARNING with files still to download.</summary>
    Ready,
    /// <summary>DONE or DONE_WITH_WARNING, every file downloaded (or in error).</summary>
    AllDownloaded,
    Failed,
    Expired,
    Cancelled,
    Broken,
}

/// <summary>The files of the order's zip: the available files that are not external links, and the objects they belong to
/// (<see cref="Objects"/> and <see cref="Bytes"/> are -1 when not counted: orders with very many available files).</summary>
public readonly record struct ZipContents(int Files, int Objects, long Bytes);

/// <summary>
/// An order's situation in plain words, before translation: the rules (<see cref="Of"/>) live here, the pages only
/// translate it. Parts are numbered 1..<see cref="PartsCount"/> among the order's sub-orders of files to prepare.
/// </summary>
public sealed record OrderSituation(OrderSituationKind Kind)
{
    /// <summary>The parts concerned (staging or waiting), in order.</summary>
    public IReadOnlyList<int> Parts { get; init; } = [];
    public int PartsCount { get; init; }
    /// <summary>At least one part being prepared has nearline (tape) files.</summary>
    public bool FromTape { get; init; }
    /// <summary>Files (and their bytes) the user can download now: of the waiting parts, or of a finished order.</summary>
    public int Files { get; init; }
    public long Bytes { get; init; }
    /// <summary>Further parts wait until the waiting ones are downloaded.</summary>
    public bool BlocksNext { get; init; }
    /// <summary>The user's preparation slots (<see cref="OrdersOptions.MaxActiveSubOrdersPerUser"/>).</summary>
    public int Slots { get; init; }
    /// <summary>Paused: the part whose preparation resuming starts first (of several parts; null for a single part).</summary>
    public int? NextPart { get; init; }
    /// <summary>Labels of the user's other orders that hold the slots.</summary>
    public IReadOnlyList<string> HeldBy { get; init; } = [];
    public int FilesInError { get; init; }
    /// <summary>Calendar days until expiry in the user's time zone (0 today, 1 tomorrow), when within a week.</summary>
    public int? ExpiresInDays { get; init; }
    /// <summary>The expiration in the user's time zone ("today at 14:00").</summary>
    public DateTime? LocalExpiration { get; init; }
    public ZipContents Zip { get; init; }

    /// <summary>Days ahead within which the pages say "Expires in n days" rather than only the date.</summary>
    public const int ExpirySoonDays = 7;

    /// <summary>The situation of <paramref name="order"/> from its parts and the slots its owner's orders hold.</summary>
    public static OrderSituation Of(OrderDto order, IReadOnlyList<SubOrderFacts> parts, IReadOnlyList<SlotHolder> slotHolders, int slots,
        ZipContents zip, DateTime utcNow, TimeZoneInfo zone)
    {
        var situation = KindOf(order, parts, slotHolders, slots, zip) with { Zip = zip, PartsCount = parts.Count, FilesInError = order.FilesInErrorCount };
        if (order.ExpirationDate is { } expiration && !IsGone(order.Status) && expiration > utcNow)
        {
            var days = (TimeZoneInfo.ConvertTimeFromUtc(expiration, zone).Date - TimeZoneInfo.ConvertTimeFromUtc(utcNow, zone).Date).Days;
            situation = situation with { LocalExpiration = TimeZoneInfo.ConvertTimeFromUtc(expiration, zone), ExpiresInDays = days <= ExpirySoonDays ? days : null };
        }
        return situation;
    }

    private static bool IsGone(OrderStatus status) => status is OrderStatus.Expired or OrderStatus.Deleted or OrderStatus.Failed or OrderStatus.Error;

    private static OrderSituation KindOf(OrderDto order, IReadOnlyList<SubOrderFacts> parts, IReadOnlyList<SlotHolder> slotHolders, int slots, ZipContents zip)
    {
        switch (order.Status)
        {
            case OrderStatus.Pending: return new(OrderSituationKind.Completing);
            case OrderStatus.Paused:
                // Pausing suspends the parts not yet prepared (a part being prepared goes back among them): resuming
                // queues them again, the first in sequence first. "Part 1 of 1" would tell nothing.
                return new(OrderSituationKind.Paused)
                {
                    NextPart = parts.Count > 1 ? parts.Where(p => p.State is SubOrderJobState.Suspended or SubOrderJobState.Queued or SubOrderJobState.Staging).Min(p => (int?)p.Part) : null,
                };
            case OrderStatus.Failed: return new(OrderSituationKind.Failed);
            case OrderStatus.Expired: return new(OrderSituationKind.Expired);
            case OrderStatus.Deleted: return new(OrderSituationKind.Cancelled);
            case OrderStatus.Error: return new(OrderSituationKind.Broken);
            case OrderStatus.Done or OrderStatus.DoneWithWarning:
                return order.AvailableFilesCount > 0
                    ? new(OrderSituationKind.Ready) { Files = order.AvailableFilesCount, Bytes = zip.Bytes }
                    : new(OrderSituationKind.AllDownloaded);
        }
        // RUNNING: what the user can do comes first (download), then what the engine does, then why nothing moves.
        var queued = parts.Any(p => p.State == SubOrderJobState.Queued);
        var waiting = parts.Where(p => p.WaitingForUser).ToList();
        if (waiting.Count > 0)
        {
            return new(OrderSituationKind.WaitingForUser)
            {
                Parts = waiting.Select(p => p.Part).ToList(), Files = waiting.Sum(p => p.AvailableFiles), Bytes = waiting.Sum(p => p.AvailableBytes), BlocksNext = queued,
            };
        }
        var staging = parts.Where(p => p.State == SubOrderJobState.Staging).ToList();
        if (staging.Count > 0)
        {
            return new(OrderSituationKind.Staging) { Parts = staging.Select(p => p.Part).ToList(), FromTape = staging.Any(p => p.Nearline) };
        }
        if (queued)
        {
            // The engine's throttle: staging or staged sub-orders of the owner count against the slots (OrderEngine.ClaimSubOrdersAsync).
            var others = slotHolders.Where(h => h.OrderId != order.Id).Select(h => h.Label).Distinct().ToList();
            return slotHolders.Count >= slots && others.Count > 0
                ? new(OrderSituationKind.QueuedBehindOtherOrders) { Slots = slots, HeldBy = others }
                : new(OrderSituationKind.QueuedStartsShortly) { Slots = slots };
        }
        return new(OrderSituationKind.Finishing);
    }
}

/// <summary>One part (internal sub-order) of an order as the situation needs it.</summary>
public sealed record SubOrderFacts(long SubOrderId, int Part, SubOrderJobState State, bool WaitingForUser, bool Nearline, int AvailableFiles, long AvailableBytes);

/// <summary>A sub-order of the owner that holds one of their preparation slots, and its order.</summary>
public sealed record SlotHolder(long OrderId, string Label);
