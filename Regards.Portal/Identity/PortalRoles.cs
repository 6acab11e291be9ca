using System.Security.Claims;

namespace Regards.Portal.Identity;

public static class PortalRoles
{
    public const string RegisteredUser = "REGISTERED_USER";
    public const string Admin = "ADMIN";
    public const string ProjectAdmin = "PROJECT_ADMIN";

    public static readonly string[] All = [RegisteredUser, Admin, ProjectAdmin];

    /// <summary>Authorization policy: ADMIN or PROJECT_ADMIN.</summary>
    public const string AdminPolicy = "Admin";
}

/// <summary>Who is calling a service: the owner key of orders and carts, and whether admin rules apply.</summary>
public sealed record Caller(string Email, bool IsAdmin)
{
    /// <summary>The highest role (REGARDS roles are ordered: REGISTERED_USER &lt; ADMIN &lt; PROJECT_ADMIN).</summary>
    public bool IsProjectAdmin { get; init; }

    public static Caller? From(ClaimsPrincipal? principal)
    {
        if (principal?.Identity is not { IsAuthenticated: true, Name: { Length: > 0 } name })
        {
            return null;
        }
        var isAdmin = principal.IsInRole(PortalRoles.Admin) || principal.IsInRole(PortalRoles.ProjectAdmin);
        return new Caller(name, isAdmin) { IsProjectAdmin = principal.IsInRole(PortalRoles.ProjectAdmin) };
    }

    public static Caller Require(ClaimsPrincipal principal) =>
        From(principal) ?? throw new InvalidOperationException("An authenticated caller was expected.");
}
