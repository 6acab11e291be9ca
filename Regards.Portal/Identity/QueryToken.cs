using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Identity;

namespace Regards.Portal.Identity;

/// <summary>
/// Marks the GET download endpoints (zip, metalink, file) that accept the bearer token as <c>?token=</c>, as
/// regards-frontend builds its download links (a browser cannot add a header to a link). Anywhere else the query
/// parameter is ignored: a token in a URL ends up in histories and proxies' logs, so it is allowed only where a
/// link is the only way. The host's request lines, which carry the query string, are kept out of the logs
/// (<see cref="QueryTokenSetup.KeepQueryTokensOutOfLogs"/>).
/// </summary>
public sealed class AcceptsQueryTokenAttribute : Attribute
{
    public const string Parameter = "token";

    public static bool Applies(HttpContext context) =>
        HttpMethods.IsGet(context.Request.Method)
        && context.GetEndpoint()?.Metadata.GetMetadata<AcceptsQueryTokenAttribute>() is not null
        && context.Request.Query.ContainsKey(Parameter);
}

public static class QueryTokenSetup
{
    public static TBuilder AcceptsQueryToken<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AcceptsQueryTokenAttribute());

    /// <summary>The bearer handler reads <c>?token=</c> on the endpoints that accept it, when no header is sent.</summary>
    public static IServiceCollection AddQueryTokens(this IServiceCollection services)
    {
        services.Configure<BearerTokenOptions>(IdentityConstants.BearerScheme, options =>
        {
            options.Events.OnMessageReceived = context =>
            {
                if (string.IsNullOrEmpty(context.Request.Headers.Authorization) && AcceptsQueryTokenAttribute.Applies(context.HttpContext))
                {
                    context.Token = context.Request.Query[AcceptsQueryTokenAttribute.Parameter].ToString();
                }
                return Task.CompletedTask;
            };
        });
        return services;
    }

    /// <summary>
    /// The host logs every request line with its query string at Information ("Request starting ... ?token=...").
    /// Those two lines stay off, whatever the configuration says, so a token in a download link never reaches a
    /// log; request logging, where wanted, goes through HttpLogging, which leaves the query out by default.
    /// </summary>
    public static ILoggingBuilder KeepQueryTokensOutOfLogs(this ILoggingBuilder logging)
    {
        logging.Services.PostConfigure<LoggerFilterOptions>(options =>
        {
            // Provider-specific rules win over provider-less ones: pin the category for every provider registered.
            options.Rules.Add(new LoggerFilterRule(null, "Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning, null));
            foreach (var provider in options.Rules.Select(r => r.ProviderName).Where(p => p is not null).Distinct().ToList())
            {
                options.Rules.Add(new LoggerFilterRule(provider, "Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning, null));
            }
        });
        return logging;
    }
}
