using Regards.Portal.Cluster;

namespace Regards.Portal.Admin;

/// <summary>Another instance saved the order settings.</summary>
public sealed class SettingsChangeRelay(PortalSettingsService settings) : IRemoteChangeHandler
{
    public string Kind => ChangeKinds.Settings;

    public Task HandleAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        settings.Reload();
        return Task.CompletedTask;
    }
}

/// <summary>Another instance saved UI modules.</summary>
public sealed class ModuleChangeRelay(UiModuleService modules) : IRemoteChangeHandler
{
    public string Kind => ChangeKinds.Module;

    public Task HandleAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        foreach (var moduleId in keys)
        {
            modules.Reload(moduleId);
        }
        return Task.CompletedTask;
    }
}
