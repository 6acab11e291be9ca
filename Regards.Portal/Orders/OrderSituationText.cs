namespace Regards.Portal.Orders;

/// <summary>Marker for the texts of <see cref="OrderSituation"/> and of the download script button.</summary>
public sealed class OrderSituationText;
