using System.Globalization;
using Microsoft.AspNetCore.Localization;
using Microsoft.Extensions.Configuration.Json;

namespace Regards.Portal.Infrastructure;

public static class HostingSetup
{
    public static readonly CultureInfo[] SupportedCultures = [new("en"), new("fr")];

    /// <summary>
    /// The development settings live at the repository root (design card); put them where the host would
    /// have read <c>Regards.Portal/appsettings.Development.json</c>, so environment variables and the command line still win.
    /// </summary>
    public static void UseRepositoryDevelopmentSettings(this WebApplicationBuilder builder)
    {
        if (!builder.Environment.IsDevelopment())
        {
            return;
        }
        var candidates = new[]
        {
            Path.Combine(builder.Environment.ContentRootPath, "..", "appsettings.Development.json"),
            Path.Combine(AppContext.BaseDirectory, "appsettings.Development.json"),
        };
        var path = candidates.Select(Path.GetFullPath).FirstOrDefault(File.Exists);
        if (path is null)
        {
            return;
        }
        var sources = builder.Configuration.Sources;
        var index = sources.ToList().FindIndex(s => s is JsonConfigurationSource { Path: "appsettings.Development.json" });
        var source = new JsonConfigurationSource { Path = path, Optional = true, ReloadOnChange = false };
        source.ResolveFileProvider();
        if (index >= 0)
        {
            sources[index] = source;
        }
        else
        {
            sources.Insert(Math.Min(2, sources.Count), source);
        }
    }

    /// <summary>Serves the repository's <c>wwwroot-assets</c> (theme, icons, logo) under <c>/assets</c>: from the
    /// source tree when running from it, else from the copy next to the binaries.</summary>
    public static IApplicationBuilder UsePortalAssets(this WebApplication app)
    {
        var folder = new[]
        {
            Path.Combine(app.Environment.ContentRootPath, "..", "wwwroot-assets"),
            Path.Combine(AppContext.BaseDirectory, "wwwroot-assets"),
        }.Select(Path.GetFullPath).FirstOrDefault(Directory.Exists)
            ?? throw new InvalidOperationException("The wwwroot-assets folder was not found.");
        return app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(folder),
            RequestPath = "/assets",
        });
    }

    public static IApplicationBuilder UsePortalLocalization(this IApplicationBuilder app) =>
        app.UseRequestLocalization(new RequestLocalizationOptions
        {
            DefaultRequestCulture = new RequestCulture("en"),
            SupportedCultures = SupportedCultures,
            SupportedUICultures = SupportedCultures,
        });

    /// <summary><c>/culture/set?culture=fr&amp;redirectUri=/orders</c>: the language switch keeps the choice in a cookie.</summary>
    public static IEndpointRouteBuilder MapCultureEndpoint(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/culture/set", (string culture, string? redirectUri, HttpContext context) =>
        {
            if (SupportedCultures.Any(c => c.Name == culture))
            {
                context.Response.Cookies.Append(
                    CookieRequestCultureProvider.DefaultCookieName,
                    CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(culture)),
                    new CookieOptions { Expires = DateTimeOffset.UtcNow.AddYears(1), IsEssential = true, SameSite = SameSiteMode.Lax, HttpOnly = true });
            }
            // Only local redirects: never an open redirect.
            return TypedResults.LocalRedirect(LocalUrl.RootedOrHome(redirectUri));
        }).ExcludeFromDescription();
        return endpoints;
    }
}
