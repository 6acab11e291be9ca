using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Admin;
using Regards.Portal.Cluster;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Cluster;

/// <summary>
/// On a database server a feed row can become visible after a newer one (its transaction commits later). The listener
/// must not move its cursor past the older id meanwhile, or that change is never heard.
/// </summary>
public sealed class ChangeFeedGapTests(PostgreSqlFactory factory) : IClassFixture<PostgreSqlFactory>
{
    [Fact]
    public async Task A_change_committed_after_a_newer_one_is_still_heard()
    {
        var listener = factory.Services.GetRequiredService<ChangeFeedListener>();
        var settings = factory.Services.GetRequiredService<PortalSettingsService>();
        var modules = factory.Services.GetRequiredService<UiModuleService>();
        var settingsHeard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var moduleHeard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        settings.Changed += () => settingsHeard.TrySetResult();
        modules.Changed += _ => moduleHeard.TrySetResult();
        var polls = listener.Polls;
        await WaitForPollAsync(listener, polls);

        // Another instance's transaction takes an id and has not committed...
        await using var slow = factory.CreateDbContext();
        await using var transaction = await slow.Database.BeginTransactionAsync();
        slow.Add(new ChangeFeedEntry { Kind = ChangeKinds.Settings, Key = "*", Origin = "other-instance", CreatedAt = DateTime.UtcNow });
        await slow.SaveChangesAsync();
        // ...while a third one's newer row is committed and read.
        await using (var quick = factory.CreateDbContext())
        {
            quick.Add(new ChangeFeedEntry { Kind = ChangeKinds.Module, Key = UiModuleSettings.Modules[0], Origin = "third-instance", CreatedAt = DateTime.UtcNow });
            await quick.SaveChangesAsync();
        }
        await moduleHeard.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(settingsHeard.Task.IsCompleted);

        await transaction.CommitAsync();
        await settingsHeard.Task.WaitAsync(TimeSpan.FromSeconds(ChangeFeedListener.GapWait.TotalSeconds - 1));
    }

    private static async Task WaitForPollAsync(ChangeFeedListener listener, long after)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (listener.Polls <= after + 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.True(listener.Polls > after + 1, "the listener polls");
    }
}
