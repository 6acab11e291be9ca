using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;

namespace Regards.Portal.Identity;

public static class CallerLookup
{
    /// <summary>
    /// A user as a <see cref="Caller"/> with their current roles, for work done on their behalf later (an order's
    /// completion, a restart by an admin): rights are those of the owner now, not of whoever clicked or of the past.
    /// An unknown account has no role.
    /// </summary>
    public static async Task<Caller> CallerOfAsync(this PortalDbContext db, string email, CancellationToken cancellationToken)
    {
        var normalized = email.ToUpperInvariant();
        var roles = await (
            from user in db.Users
            join userRole in db.UserRoles on user.Id equals userRole.UserId
            join role in db.Roles on userRole.RoleId equals role.Id
            where user.NormalizedEmail == normalized
            select role.Name).ToListAsync(cancellationToken);
        var isProjectAdmin = roles.Contains(PortalRoles.ProjectAdmin);
        return new Caller(email, isProjectAdmin || roles.Contains(PortalRoles.Admin)) { IsProjectAdmin = isProjectAdmin };
    }
}
