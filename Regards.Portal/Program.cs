using System.Text.Json.Serialization;
using Microsoft.AspNetCore.DataProtection;
using MudBlazor.Services;
using Regards.Portal.Admin;
using Regards.Portal.Basket;
using Regards.Portal.Catalog;
using Regards.Portal.Cluster;
using Regards.Portal.Components;
using Regards.Portal.Data;
using Regards.Portal.Downloads;
using Regards.Portal.Identity;
using Regards.Portal.Infrastructure;
using Regards.Portal.Notifications;
using Regards.Portal.Operations;
using Regards.Portal.Orders;
using Regards.Portal.Processing;
using Regards.Portal.Storage;

var builder = WebApplication.CreateBuilder(args);
builder.UseRepositoryDevelopmentSettings();
builder.Logging.KeepQueryTokensOutOfLogs();

builder.Services.AddRazorComponents().AddInteractiveServerComponents();
// Snackbars at the bottom left on wide screens: never over the row actions (right) nor the app bar (top). Below 960 px
// portal.css moves them over the app bar's brand, one at a time: at the bottom they covered a phone's pager and buttons.
builder.Services.AddMudServices(config => config.SnackbarConfiguration.PositionClass = MudBlazor.Defaults.Classes.Position.BottomLeft);
// The pages' resources, and MudBlazor's own texts (pager, close buttons, date pickers) in the user's language.
builder.Services.AddPortalLocalization();
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<PortalExceptionHandler>();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
builder.Services.AddOpenApi();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddPortalHealth(builder.Configuration);

builder.Services.AddPortalDatabase(builder.Configuration, builder.Environment);
builder.Services.AddCluster(builder.Configuration);
var dataProtection = builder.Services.AddDataProtection().SetApplicationName("Regards.Portal").PersistKeysToDbContext<PortalDbContext>();
builder.Services.AddProductionHosting(builder.Configuration, dataProtection);
builder.Services.AddPortalIdentity(builder.Configuration);

builder.Services.AddStorage(builder.Configuration, builder.Environment);
builder.Services.AddCatalog(builder.Configuration);
builder.Services.AddBasket(builder.Configuration);
builder.Services.AddNotifications(builder.Configuration, builder.Environment);
builder.Services.AddOrders(builder.Configuration);
builder.Services.AddDownloads(builder.Configuration);
builder.Services.AddProcessing();
builder.Services.AddAdmin();
builder.Services.AddPortalTelemetry(builder.Configuration);

var app = builder.Build();

try
{
    // Migrates, or with Database:MigrateOnStartup false refuses to start on an outdated schema.
    await app.Services.PreparePortalDatabaseAsync();
}
catch
{
    // The log line that says why is written before the process ends (the console logger writes in the background).
    await app.DisposeAsync();
    throw;
}
if (await app.RunSeedCommandAsync(args))
{
    return;
}
if (await app.RunAdminCommandAsync(args, Console.In, Console.Out) is { } exitCode)
{
    Environment.ExitCode = exitCode;
    return;
}
if (await app.RunBackupCommandAsync(args, Console.Out) is { } backupExitCode)
{
    Environment.ExitCode = backupExitCode;
    return;
}
try
{
    await app.RequireAdministratorAsync();
}
catch (InvalidOperationException refusal)
{
    app.Logger.LogCritical("{Reason}", refusal.Message);
    await app.DisposeAsync();
    throw;
}

app.UseProductionHosting();
app.UseSecurityHeaders();
app.UseExceptionHandler();
// Before routing: the REGARDS gateway's paths are rewritten to the portal's.
app.UseRegardsGatewayPrefix();
app.UseRouting();
// API errors are ProblemDetails; only pages get the "not found" page.
app.UseWhen(context => !context.Request.Path.StartsWithSegments("/api"),
    branch => branch.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true));
// ...and the API's bodiless errors (authentication, roles, routing) become ProblemDetails with a code.
app.UseWhen(context => context.Request.Path.StartsWithSegments("/api"),
    branch => branch.UseStatusCodePages(ApiProblems.WriteStatusCodeProblemAsync));
app.UsePortalLocalization();
app.UseCrossOriginGuard();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();

app.UsePortalAssets();
app.MapStaticAssets();
// frame-ancestors is part of the portal's own Content Security Policy (SecurityHeaders), not a second header.
app.MapRazorComponents<App>().AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null);
app.MapAdditionalIdentityEndpoints();
app.MapIdentityApi();
app.MapCultureEndpoint();
// The API description: open while developing; elsewhere for administrators only unless OpenApi:Public says otherwise
// (it lists every endpoint and parameter, which an integrator needs and an anonymous visitor does not).
var openApi = app.MapOpenApi();
if (!app.Environment.IsDevelopment() && !app.Configuration.GetValue("OpenApi:Public", false))
{
    openApi.RequireAuthorization(Regards.Portal.Identity.PortalRoles.AdminPolicy);
}
app.MapPortalHealth();
app.MapPortalMetrics();

app.MapCatalogApi();
app.MapBasketApi();
app.MapOrdersApi();
app.MapDownloadsApi();
app.MapProcessingApi();

app.Run();

/// <summary>Visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
