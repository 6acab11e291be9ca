using Microsoft.AspNetCore.Identity;
using Regards.Portal.Data;

namespace Regards.Portal.Identity;

/// <summary>Accounts made by the portal's operators (demo users, the first administrator): confirmed from the start, with one role.</summary>
public static class ConfirmedAccounts
{
    /// <summary>Null when created, else why not (Identity's password and name rules).</summary>
    public static async Task<string?> CreateConfirmedAsync(this UserManager<ApplicationUser> users, string email, string password, string role)
    {
        var user = new ApplicationUser { UserName = email, Email = email, EmailConfirmed = true };
        var result = await users.CreateAsync(user, password);
        if (!result.Succeeded)
        {
            return string.Join(" ", result.Errors.Select(e => e.Description));
        }
        await users.AddToRoleAsync(user, role);
        return null;
    }
}
