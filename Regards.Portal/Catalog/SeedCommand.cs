using Regards.Portal.Identity;

namespace Regards.Portal.Catalog;

public static class SeedCommand
{
    /// <summary>
    /// Seeds roles, demo users and the demo catalog when the database is empty. With the CLI command
    /// <c>seed</c> (e.g. <c>-- seed --objects 100000 --files-per-object 1</c>) it also generates a large
    /// catalog and returns true: the process then exits instead of serving.
    /// </summary>
    public static async Task<bool> RunSeedCommandAsync(this WebApplication app, string[] args)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IdentitySeeder>().SeedAsync();
        return false;
    }
}
