using MudBlazor;

namespace Regards.Portal.Components.Layout;

internal static class PortalTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#0b3d6e",
            Secondary = "#00838f",
            AppbarBackground = "#0b3d6e",
            Background = "#f5f7fa",
            // Darker than MudBlazor's defaults: chips (text or filled) and helper texts reach 4.5:1 (WCAG AA, axe).
            Info = "#1565c0",
            Success = "#2e7d32",
            Warning = "#a35200",
            Error = "#c62828",
            TextSecondary = "rgba(0,0,0,0.7)",
        },
    };
}
