using Microsoft.AspNetCore.Components;
using Regards.Portal.Identity;

namespace Regards.Portal.Basket.Components;

/// <summary>
/// Slots other features fill in the cart page (the Process button of the processing feature), so the cart does
/// not depend on it.
/// </summary>
public static class CartExtensions
{
    public static RenderFragment<(Caller Caller, BasketDatasetSelectionDto Selection)>? ProcessButton { get; set; }
}
