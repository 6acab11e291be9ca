namespace Regards.Portal.Components.Layout;

/// <summary>Marker for the layout's localised texts (LayoutText.resx / LayoutText.fr.resx).</summary>
public sealed class LayoutText;
