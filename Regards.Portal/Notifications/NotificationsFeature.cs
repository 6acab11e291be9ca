using Regards.Portal.Data;

namespace Regards.Portal.Notifications;

public static class NotificationsFeature
{
    /// <summary>The order e-mails (<see cref="IOrderMailer"/>, which the orders feature needs) and their outbox.</summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        var dataPath = DatabaseSetup.ResolveDataPath(configuration, environment);
        services.AddOptions<MailOptions>().Bind(configuration.GetSection(MailOptions.Section))
            .PostConfigure(o => o.PickupFolder = string.IsNullOrWhiteSpace(o.PickupFolder)
                ? Path.Combine(dataPath, "mail-pickup")
                : Path.GetFullPath(o.PickupFolder, environment.ContentRootPath))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<MailSender>();
        services.AddSingleton<MailOutboxSignal>();
        services.AddSingleton<MailOutbox>();
        services.AddHostedService<MailOutboxSender>();
        services.AddSingleton<IOrderMailer, OrderMailer>();
        return services;
    }
}
