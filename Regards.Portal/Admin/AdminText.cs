namespace Regards.Portal.Admin;

/// <summary>Marker for the admin pages' localised texts.</summary>
public sealed class AdminText;
