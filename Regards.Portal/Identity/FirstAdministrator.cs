using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;

namespace Regards.Portal.Identity;

/// <summary>
/// The first administrator of an install, never a built-in password: made by the <c>admin create</c> command (password
/// from standard input, or generated and printed once), or from configuration (<c>FirstAdmin:Email</c> and
/// <c>FirstAdmin:Password</c>, e.g. from a secret store, used once: an existing account is left as it is). Outside
/// Development the portal does not start without an administrator, and says how to make one.
/// </summary>
public static class FirstAdministrator
{
    public const string Usage = "dotnet Regards.Portal.dll admin create --email <address> [--password-stdin]";

    /// <summary>Runs <c>admin create</c> when asked; null when the arguments are no such command, else the exit code.</summary>
    public static async Task<int?> RunAdminCommandAsync(this WebApplication app, string[] args, TextReader input, TextWriter output)
    {
        if (args.Length < 2 || args[0] != "admin" || args[1] != "create")
        {
            return null;
        }
        var emailAt = Array.IndexOf(args, "--email");
        var email = emailAt >= 0 && emailAt + 1 < args.Length ? args[emailAt + 1].Trim() : null;
        if (string.IsNullOrEmpty(email) || !email.Contains('@'))
        {
            await output.WriteLineAsync($"An e-mail address is needed: {Usage}");
            return 2;
        }
        string password;
        var generated = !args.Contains("--password-stdin");
        if (generated)
        {
            password = Generate();
        }
        else
        {
            password = (await input.ReadLineAsync())?.TrimEnd('\r', '\n') ?? "";
        }

        await using var scope = app.Services.CreateAsyncScope();
        var (created, message) = await CreateAsync(scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>(), email, password);
        if (!created)
        {
            await output.WriteLineAsync(message);
            return 1;
        }
        await output.WriteLineAsync($"Administrator {email} created (PROJECT_ADMIN).");
        if (generated)
        {
            // Shown once and stored nowhere but as a hash: the administrator changes it after signing in.
            await output.WriteLineAsync($"Password (shown once): {password}");
        }
        return 0;
    }

    /// <summary>
    /// At start-up: creates the configured first administrator when that account does not exist yet; then, outside
    /// Development, refuses to go on when no account has an administrator role.
    /// </summary>
    public static async Task RequireAdministratorAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(FirstAdministrator));
        var configuration = app.Configuration;
        if (configuration["FirstAdmin:Email"] is { Length: > 0 } email && await users.FindByEmailAsync(email) is null)
        {
            var password = configuration["FirstAdmin:Password"] ?? "";
            var (created, message) = await CreateAsync(users, email.Trim(), password);
            if (!created)
            {
                throw new InvalidOperationException($"FirstAdmin:Email is set but the administrator cannot be created: {message}");
            }
            logger.LogInformation("First administrator {Email} created from configuration", email);
        }
        if (app.Environment.IsDevelopment())
        {
            return;
        }
        await using var db = await scope.ServiceProvider.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        var hasAdministrator = await db.UserRoles.AnyAsync(ur => db.Roles.Any(r => r.Id == ur.RoleId && (r.Name == PortalRoles.ProjectAdmin || r.Name == PortalRoles.Admin)));
        if (!hasAdministrator)
        {
            throw new InvalidOperationException(
                $"This portal has no administrator. Create one with `{Usage}` (the password is read from standard input, or generated and printed once), " +
                "or set FirstAdmin:Email and FirstAdmin:Password, then start again.");
        }
    }

    private static async Task<(bool Created, string Message)> CreateAsync(UserManager<ApplicationUser> users, string email, string password)
    {
        if (await users.FindByEmailAsync(email) is not null)
        {
            return (false, $"An account {email} already exists: nothing was changed.");
        }
        return await users.CreateConfirmedAsync(email, password, PortalRoles.ProjectAdmin) is { } refusal
            ? (false, $"The administrator {email} was not created: {refusal}")
            : (true, "");
    }

    /// <summary>20 characters from four classes, so every password rule of Identity is met.</summary>
    private static string Generate()
    {
        const string lower = "abcdefghijkmnopqrstuvwxyz", upper = "ABCDEFGHJKLMNPQRSTUVWXYZ", digits = "23456789", symbols = "!#%+-=?@_";
        const string all = lower + upper + digits + symbols;
        var chars = new char[20];
        chars[0] = lower[RandomNumberGenerator.GetInt32(lower.Length)];
        chars[1] = upper[RandomNumberGenerator.GetInt32(upper.Length)];
        chars[2] = digits[RandomNumberGenerator.GetInt32(digits.Length)];
        chars[3] = symbols[RandomNumberGenerator.GetInt32(symbols.Length)];
        for (var i = 4; i < chars.Length; i++)
        {
            chars[i] = all[RandomNumberGenerator.GetInt32(all.Length)];
        }
        RandomNumberGenerator.Shuffle(chars.AsSpan());
        return new string(chars);
    }
}
