using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Data;

namespace Regards.Portal.Tests.Infrastructure;

/// <summary>
/// The real app (real pipeline, real database, real local-disk storage in a temp folder) for integration tests: a
/// SQLite file in that folder by default, or with <see cref="DatabaseProvider.PostgreSql"/> a database of its own on the
/// run's PostgreSQL cluster. <see cref="Settings"/> overrides configuration; call <see cref="StartKestrel"/> for a
/// real socket (browser tests, aria2, curl).
/// </summary>
public class PortalAppFactory : WebApplicationFactory<Program>
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public PortalAppFactory() : this(DatabaseProvider.Sqlite)
    {
    }

    protected PortalAppFactory(DatabaseProvider provider) => Provider = provider;

    /// <summary>A factory on that provider (the suites that run on each provider use their factory's subclasses).</summary>
    public static PortalAppFactory For(DatabaseProvider provider) => new(provider);

    /// <summary>The database the app runs on (SQLite or PostgreSQL).</summary>
    public DatabaseProvider Provider { get; }

    public string DataPath { get; private init; } = Path.Combine(Path.GetTempPath(), "regards-tests", Guid.NewGuid().ToString("N"));

    private TestDatabase? database;

    /// <summary>A second instance of the portal on the same database and data folder (SQLite file, storage, cache).</summary>
    public PortalAppFactory SecondInstance()
    {
        var second = new PortalAppFactory(Provider) { DataPath = DataPath, database = Database, ownsDatabase = false };
        foreach (var (key, value) in Settings)
        {
            second.Settings[key] = value;
        }
        return second;
    }

    private bool ownsDatabase = true;

    /// <summary>The app's database, made when the host is built.</summary>
    public TestDatabase Database => database ?? throw new InvalidOperationException("The host is not built yet.");

    /// <summary>Configuration overrides; set before the first client is created.</summary>
    public Dictionary<string, string?> Settings { get; } = new()
    {
        // A small demo catalog keeps each test host fast; the demo's structure is the same.
        ["Seed:DemoObjectsPerDataset"] = "20",
    };

    /// <summary>Extra service overrides (e.g. a fake TimeProvider); applied after the app's own.</summary>
    public Action<IServiceCollection>? ConfigureTestServices { get; set; }

    /// <summary>The host environment the app starts in (Development: the demo data and its documented passwords).</summary>
    public string EnvironmentName { get; init; } = "Development";

    private bool useKestrel;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        Directory.CreateDirectory(DataPath);
        builder.UseEnvironment(EnvironmentName);
        builder.UseSetting("Database:DataPath", DataPath);
        database ??= TestDatabase.Create(Provider, DataPath, GetType().Name);
        foreach (var (key, value) in database.Settings)
        {
            builder.UseSetting(key, value);
        }
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureServices(services => ConfigureTestServices?.Invoke(services));
    }

    /// <summary>Runs the app on real Kestrel on 127.0.0.1 and returns its base address.</summary>
    public Uri StartKestrel()
    {
        if (!useKestrel)
        {
            useKestrel = true;
            UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
            StartServer();
        }
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!;
        return new Uri(addresses.Addresses.First());
    }

    /// <summary>A client with a bearer token of that user (real <c>POST /api/identity/login</c>).</summary>
    public async Task<HttpClient> CreateClientForAsync(string email, string? password = null)
    {
        var client = useKestrel ? new HttpClient { BaseAddress = StartKestrel() } : CreateClient();
        var token = await LoginAsync(client, email, password ?? DemoPassword(email));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public HttpClient CreateAnonymousClient() => useKestrel ? new HttpClient { BaseAddress = StartKestrel() } : CreateClient();

    public static async Task<string> LoginAsync(HttpClient client, string email, string password)
    {
        using var response = await client.PostAsJsonAsync("/api/identity/login", new { email, password });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("accessToken").GetString()!;
    }

    public static string DemoPassword(string email) => email switch
    {
        DemoUsers.Admin => "Regards!Admin1",
        DemoUsers.User => "Regards!User1",
        DemoUsers.Guest => "Regards!Guest1",
        _ => throw new ArgumentException($"No demo password for {email}"),
    };

    /// <summary>A short-lived context on the test's database, for arranging and asserting rows.</summary>
    public PortalDbContext CreateDbContext() =>
        Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && ownsDatabase)
        {
            database?.Dispose();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(DataPath, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open by the OS: the temp folder is cleaned by the machine.
            }
        }
    }
}

/// <summary>The plain app on PostgreSQL: the class fixture of the suites whose SQLite twin uses <see cref="PortalAppFactory"/> itself.</summary>
public sealed class PostgreSqlFactory() : PortalAppFactory(DatabaseProvider.PostgreSql);

public static class DemoUsers
{
    public const string Admin = "admin@regards.local";
    public const string User = "user@regards.local";
    public const string Guest = "guest@regards.local";
}
