using Regards.Portal.Infrastructure;

namespace Regards.Portal.Admin;

public enum ModuleDisplayMode
{
    InitiallyExpanded,
    InitiallyCollapsed,
    AlwaysExpanded,
}

/// <summary>Whether the cart page appears in the navigation or only through the cart icon.</summary>
public enum CartPageVisibility
{
    Always,
    Never,
}

/// <summary>Settings of one UI module (REGARDS "modules": order-cart, order-history, menu), applied at once.</summary>
public class UiModuleSettings : IVersioned
{
    public const string OrderCart = "order-cart";
    public const string OrderHistory = "order-history";
    public const string Menu = "menu";
    public static readonly string[] Modules = [OrderCart, OrderHistory, Menu];

    public required string ModuleId { get; set; }
    public bool Active { get; set; } = true;
    public string Description { get; set; } = "";
    public string TitleEn { get; set; } = "";
    public string TitleFr { get; set; } = "";
    public ModuleDisplayMode DisplayMode { get; set; } = ModuleDisplayMode.AlwaysExpanded;
    public bool IsHomePage { get; set; }
    public string Icon { get; set; } = "";

    /// <summary>order-cart: group the cart by dataset.</summary>
    public bool DisplayDatasets { get; set; } = true;

    /// <summary>menu: show the cart icon with its badge in the app bar.</summary>
    public bool DisplayCartLink { get; set; } = true;

    /// <summary>menu: show "My cart" in the navigation, or reach it only through the cart icon.</summary>
    public CartPageVisibility CartVisibility { get; set; } = CartPageVisibility.Always;

    public long Version { get; set; }

    public string Title(string twoLetterLanguage) => twoLetterLanguage == "fr" && TitleFr.Length > 0 ? TitleFr : TitleEn;

    public static UiModuleSettings Default(string moduleId) => moduleId switch
    {
        OrderCart => new UiModuleSettings { ModuleId = moduleId, TitleEn = "My cart", TitleFr = "Mon panier", Description = "The user's cart of data objects", Icon = "ShoppingCart" },
        OrderHistory => new UiModuleSettings { ModuleId = moduleId, TitleEn = "My orders", TitleFr = "Mes commandes", Description = "The user's orders and their downloads", Icon = "History" },
        Menu => new UiModuleSettings { ModuleId = moduleId, TitleEn = "Menu", TitleFr = "Menu", Description = "The portal's navigation bar", Icon = "Menu" },
        _ => throw new ArgumentOutOfRangeException(nameof(moduleId), moduleId, "Unknown module."),
    };
}

/// <summary>Order settings an administrator changes at run time; they override the configuration's defaults.</summary>
public class PortalSettings : IVersioned
{
    public int Id { get; set; } = 1;
    public int SubOrderDurationHours { get; set; }
    public int ApplicationSubOrderDurationHours { get; set; }
    public int MaxExpirationHours { get; set; }
    public int ReminderDelayHours { get; set; }
    public int DefaultMaxDownloads { get; set; } = -1;
    public int DefaultMaxConcurrentDownloads { get; set; } = -1;
    public long Version { get; set; }
}
