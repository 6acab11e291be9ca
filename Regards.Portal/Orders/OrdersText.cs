namespace Regards.Portal.Orders;

/// <summary>Marker for the order pages' localised texts.</summary>
public sealed class OrdersText;
