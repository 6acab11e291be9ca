using Microsoft.Extensions.Localization;
using MudBlazor;

namespace Regards.Portal.Infrastructure;

/// <summary>
/// MudBlazor's own texts (close buttons, pagers, date pickers, "Loading...") in the user's language: the
/// <c>Mud*_*</c> keys of <see cref="PortalText"/>. A key without a translation falls back to MudBlazor's English.
/// </summary>
internal sealed class PortalMudLocalizer(IStringLocalizer<PortalText> texts) : MudLocalizer
{
    public override LocalizedString this[string key] => texts[key];

    public override LocalizedString this[string key, params object[] arguments] => texts[key, arguments];
}

public static class PortalLocalizationServices
{
    /// <summary>The resource localizers of the pages, and MudBlazor's own texts through them (after AddMudServices).</summary>
    public static IServiceCollection AddPortalLocalization(this IServiceCollection services)
    {
        services.AddLocalization();
        services.AddTransient<MudLocalizer, PortalMudLocalizer>();
        return services;
    }
}
