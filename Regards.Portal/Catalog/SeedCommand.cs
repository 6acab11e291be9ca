using System.Globalization;
using Regards.Portal.Identity;

namespace Regards.Portal.Catalog;

public static class SeedCommand
{
    /// <summary>
    /// Seeds roles, demo users and the demo catalog into an empty database. With the CLI command
    /// <c>seed --objects 100000 [--files-per-object 1] [--file-size 16384] [--metadata-only] [--dataset-id ID]</c>
    /// it also adds a large benchmark dataset and returns true: the process then exits instead of serving.
    /// </summary>
    public static async Task<bool> RunSeedCommandAsync(this WebApplication app, string[] args)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IdentitySeeder>().SeedAsync();
        var configuration = app.Configuration;
        var generator = scope.ServiceProvider.GetRequiredService<CatalogGenerator>();
        if (IdentitySeeder.IsDemoDataOn(configuration, app.Environment))
        {
            await generator.SeedDemoAsync(configuration.GetValue("Seed:DemoObjectsPerDataset", 500));
        }

        if (args.Length == 0 || args[0] != "seed")
        {
            return false;
        }
        string? Option(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        int IntOption(string name, int fallback) => Option(name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
        var objects = IntOption("--objects", 100_000);
        var id = await generator.AddBenchmarkDatasetAsync(
            objects, IntOption("--files-per-object", 1), IntOption("--file-size", 16_384), args.Contains("--metadata-only"), Option("--dataset-id"));
        Console.WriteLine($"Added dataset {id} with {objects} objects.");
        return true;
    }
}
