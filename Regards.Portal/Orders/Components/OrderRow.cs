namespace Regards.Portal.Orders.Components;

/// <summary>
/// A row of the order tables, equal to another row of the same order. MudTable keys its rows by item equality:
/// two loads of an <see cref="OrderDto"/> are never equal (its lists compare by reference), so each pushed reload
/// threw every row away and built it again, and a click landing during a reload went to a row being removed and
/// was lost. Keyed by order id, a reload updates each row in place.
/// </summary>
public sealed class OrderRow(OrderDto order, OrderSituation? situation = null) : IEquatable<OrderRow>
{
    public OrderDto Order { get; } = order;

    /// <summary>What is happening to it, in plain words (My orders and admin Orders compute it with <see cref="OrderSituations"/>).</summary>
    public OrderSituation? Situation { get; } = situation;

    public bool Equals(OrderRow? other) => other is not null && other.Order.Id == Order.Id;

    public override bool Equals(object? obj) => Equals(obj as OrderRow);

    public override int GetHashCode() => Order.Id.GetHashCode();
}
