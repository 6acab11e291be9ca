namespace Regards.Portal.Infrastructure;

/// <summary>Marker for the texts shared by every page: size units, the table pager, MudBlazor's own texts.</summary>
public sealed class PortalText;
