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
        },
    };
}
