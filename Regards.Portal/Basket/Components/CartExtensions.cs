using Microsoft.AspNetCore.Components;
using Regards.Portal.Identity;

namespace Regards.Portal.Basket.Components;

/// <summary>
/// Slots other features fill in the cart page (the Order button of the orders feature, the Process button of the
/// processing feature), so the cart does not depend on them.
/// </summary>
public static class CartExtensions
{
    public static RenderFragment<BasketDto>? OrderButton { get; set; }

    public static RenderFragment<(Caller Caller, BasketDatasetSelectionDto Selection)>? ProcessButton { get; set; }
}
