using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Catalog;
using Regards.Portal.Data;

namespace Regards.Portal.Identity;

/// <summary>
/// Roles always; the three demo users of the spec on an empty user table when demo data is on. Demo data is on by
/// default in Development only, and the documented passwords are used in Development only: anywhere else a demo user
/// needs its password in configuration (<c>Seed:Passwords:{email}</c>), or the portal refuses to start, since the
/// README's passwords are public.
/// </summary>
public sealed class IdentitySeeder(
    RoleManager<IdentityRole> roles,
    UserManager<ApplicationUser> users,
    IDbContextFactory<PortalDbContext> dbFactory,
    IConfiguration configuration,
    IHostEnvironment environment,
    ILogger<IdentitySeeder> logger)
{
    public const string ScienceTeam = "science-team";

    public static readonly IReadOnlyList<(string Email, string DefaultPassword, string Role, string[] Groups)> DemoUsers =
    [
        ("admin@regards.local", "Regards!Admin1", PortalRoles.ProjectAdmin, []),
        ("user@regards.local", "Regards!User1", PortalRoles.RegisteredUser, [ScienceTeam]),
        ("guest@regards.local", "Regards!Guest1", PortalRoles.RegisteredUser, []),
    ];

    /// <summary>Demo data: as configured, else on in Development and off elsewhere.</summary>
    public static bool IsDemoDataOn(IConfiguration configuration, IHostEnvironment environment) =>
        configuration.GetValue<bool?>("Seed:DemoData") ?? environment.IsDevelopment();

    public async Task SeedAsync(CancellationToken cancellationToken = default)
    {
        foreach (var role in PortalRoles.All)
        {
            if (!await roles.RoleExistsAsync(role))
            {
                await roles.CreateAsync(new IdentityRole(role));
            }
        }

        if (!IsDemoDataOn(configuration, environment) || await users.Users.AnyAsync(cancellationToken))
        {
            return;
        }

        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            if (!await db.AccessGroups.AnyAsync(g => g.Name == ScienceTeam, cancellationToken))
            {
                db.AccessGroups.Add(new AccessGroup { Name = ScienceTeam, Description = "Scientists of the mission team" });
                await db.SaveChangesAsync(cancellationToken);
            }
        }

        foreach (var (email, defaultPassword, role, groups) in DemoUsers)
        {
            var password = configuration[$"Seed:Passwords:{email}"] is { Length: > 0 } configured ? configured
                : environment.IsDevelopment() ? defaultPassword
                : throw new InvalidOperationException(
                    $"Seed:DemoData is on in {environment.EnvironmentName} but Seed:Passwords:{email} is not set: the documented demo passwords are public and used in Development only.");
            if (await users.CreateConfirmedAsync(email, password, role) is { } refusal)
            {
                throw new InvalidOperationException($"Cannot create demo user {email}: {refusal}");
            }
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            db.UserAccessGroups.AddRange(groups.Select(g => new UserAccessGroup { UserEmail = email, GroupName = g }));
            await db.SaveChangesAsync(cancellationToken);
        }
        logger.LogInformation("Demo users created: {Users}", string.Join(", ", DemoUsers.Select(u => u.Email)));
    }
}
