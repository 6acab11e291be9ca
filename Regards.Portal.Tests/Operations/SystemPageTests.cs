using System.Reflection;
using Bunit;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using Regards.Portal.Identity;
using Regards.Portal.Notifications;
using Regards.Portal.Operations;
using Regards.Portal.Operations.Components;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Operations;

/// <summary>The System page over the app's own services and database (bUnit).</summary>
public sealed class SystemPageTests(PortalAppFactory factory) : IClassFixture<PortalAppFactory>
{
    private BunitContext PageContext()
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.Services.AddLocalization();
        ctx.Services.AddSingleton(factory.Services.GetRequiredService<SystemStatusService>());
        ctx.Render<MudPopoverProvider>();
        return ctx;
    }

    [Fact]
    public void The_page_is_for_administrators_only()
    {
        var authorize = typeof(SystemPage).GetCustomAttribute<AuthorizeAttribute>();
        Assert.Equal(PortalRoles.AdminPolicy, authorize?.Policy);
    }

    [Fact]
    public async Task The_page_shows_version_database_engine_queues_storage_and_recent_failures_from_the_database()
    {
        var now = factory.Services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        await using (var db = factory.CreateDbContext())
        {
            db.Orders.Add(new Order { Owner = DemoUsers.User, Label = "system-failed", Status = OrderStatus.Failed, CreationDate = now, StatusDate = now, Message = "No file matches the filters." });
            db.OutboxMails.Add(new OutboxMail { To = "someone@x", Subject = "System page mail", Message = "m", CreatedAt = now, NextAttemptAt = now, Attempts = 10, GaveUp = true, LastError = "connection refused" });
            await db.SaveChangesAsync();
        }
        // The engine of the test app goes round: its heartbeat is fresh.
        await Orders.OrderTestKit.WaitAsync(() => Task.FromResult(factory.Services.GetRequiredService<EngineHeartbeat>().Last is not null), 10, "engine loop");

        await using var ctx = PageContext();
        var page = ctx.Render<SystemPage>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=system-version]")), TimeSpan.FromSeconds(10));

        Assert.Equal(PortalTelemetry.Version, page.Find("[data-testid=system-version]").TextContent);
        Assert.Equal("Sqlite", page.Find("[data-testid=system-database]").TextContent);
        Assert.Equal(nameof(EngineState.Running), page.Find("[data-testid=system-engine]").GetAttribute("data-state"));
        await using (var db = factory.CreateDbContext())
        {
            Assert.Equal((await db.SubOrders.CountAsync(s => !s.External && s.JobState == SubOrderJobState.Queued)).ToString(), page.Find("[data-testid=system-queued]").TextContent);
            Assert.Equal((await db.OutboxMails.CountAsync(m => m.GaveUp)).ToString(), page.Find("[data-testid=system-mails-given-up]").TextContent);
            Assert.Contains($"FAILED: {await db.Orders.CountAsync(o => o.Status == OrderStatus.Failed)}", page.Find("[data-testid=system-orders-FAILED]").TextContent);
        }
        Assert.Contains("storage", page.Find("[data-testid=system-volume-storage]").TextContent);
        Assert.NotNull(page.Find("[data-testid=system-volume-cache]"));
        var failures = page.Find("[data-testid=system-failures]").TextContent;
        Assert.Contains("FAILED", failures);
        Assert.Contains("No file matches the filters.", failures);
        Assert.Contains("System page mail", failures);
        Assert.Contains("connection refused", failures);
        // No address of a user on the page.
        Assert.DoesNotContain("someone@x", page.Markup);
    }
}
