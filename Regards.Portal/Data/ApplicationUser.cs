using Microsoft.AspNetCore.Identity;

namespace Regards.Portal.Data;

public class ApplicationUser : IdentityUser
{
    /// <summary>Completed raw-data downloads allowed; -1 = unlimited.</summary>
    public int MaxDownloads { get; set; } = -1;

    /// <summary>Downloads allowed at the same time; -1 = unlimited.</summary>
    public int MaxConcurrentDownloads { get; set; } = -1;

    /// <summary>Completed raw-data downloads so far, counted against <see cref="MaxDownloads"/>.</summary>
    public int DownloadsCount { get; set; }
}
