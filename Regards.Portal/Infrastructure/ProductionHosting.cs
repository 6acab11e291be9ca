using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.HttpOverrides;

namespace Regards.Portal.Infrastructure;

/// <summary>
/// The proxies in front of the portal (a TLS-terminating nginx, a load balancer). Their <c>X-Forwarded-For</c> and
/// <c>X-Forwarded-Proto</c> are believed, so the portal sees the client's address and that it was reached over HTTPS
/// (Secure cookies, HSTS, https links). Loopback is always trusted (a proxy on the same machine); headers from any
/// other address not listed here are ignored, so a client cannot claim HTTPS or another address.
/// </summary>
public sealed class ReverseProxyOptions
{
    public const string Section = "ReverseProxy";

    /// <summary>Addresses of the proxies, e.g. <c>10.0.0.5</c>.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of the proxies in CIDR notation, e.g. <c>10.0.0.0/24</c>.</summary>
    public List<string> KnownNetworks { get; set; } = [];
}

/// <summary>The certificate that encrypts the Data Protection keys at rest (they sign cookies, bearer and order tokens).</summary>
public sealed class KeyProtectionOptions
{
    public const string Section = "DataProtection";

    /// <summary>A PKCS#12 (.pfx) file with a private key; none: the keys are stored unencrypted (a warning in production).</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }
}

public static class ProductionHosting
{
    public static IServiceCollection AddProductionHosting(this IServiceCollection services, IConfiguration configuration, IDataProtectionBuilder dataProtection)
    {
        services.AddOptions<ReverseProxyOptions>().Bind(configuration.GetSection(ReverseProxyOptions.Section))
            .Validate(o => o.KnownProxies.All(p => IPAddress.TryParse(p, out _)), "ReverseProxy:KnownProxies holds an entry that is not an IP address.")
            .Validate(o => o.KnownNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)), "ReverseProxy:KnownNetworks holds an entry that is not a CIDR network (e.g. 10.0.0.0/24).")
            .ValidateOnStart();
        var proxies = configuration.GetSection(ReverseProxyOptions.Section).Get<ReverseProxyOptions>() ?? new ReverseProxyOptions();
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Loopback stays known (the defaults); the configured proxies are added. Unparsable entries fail at start above.
            foreach (var proxy in proxies.KnownProxies)
            {
                if (IPAddress.TryParse(proxy, out var address))
                {
                    o.KnownProxies.Add(address);
                }
            }
            foreach (var network in proxies.KnownNetworks)
            {
                if (System.Net.IPNetwork.TryParse(network, out var parsed))
                {
                    o.KnownIPNetworks.Add(parsed);
                }
            }
        });

        services.AddOptions<KeyProtectionOptions>().Bind(configuration.GetSection(KeyProtectionOptions.Section))
            .Validate(o => o.CertificatePath is null || File.Exists(o.CertificatePath), "DataProtection:CertificatePath names no file.")
            .ValidateOnStart();
        var keys = configuration.GetSection(KeyProtectionOptions.Section).Get<KeyProtectionOptions>() ?? new KeyProtectionOptions();
        if (keys.CertificatePath is { Length: > 0 } path && File.Exists(path))
        {
            var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, keys.CertificatePassword, X509KeyStorageFlags.EphemeralKeySet);
            if (!certificate.HasPrivateKey)
            {
                throw new InvalidOperationException($"The certificate {path} (DataProtection:CertificatePath) has no private key: the keys could not be read back.");
            }
            // Encrypts new keys, and reads them back with this certificate rather than from a machine store.
            dataProtection.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);
        }
        return services;
    }

    /// <summary>
    /// Forwarded headers first (everything after sees the client's scheme and address), then, outside Development,
    /// HSTS on HTTPS answers and a redirect of plain HTTP to HTTPS when the portal has an HTTPS port.
    /// </summary>
    public static WebApplication UseProductionHosting(this WebApplication app)
    {
        app.UseForwardedHeaders();
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
            app.UseHttpsRedirection();
            if (string.IsNullOrEmpty(app.Configuration[$"{KeyProtectionOptions.Section}:{nameof(KeyProtectionOptions.CertificatePath)}"]))
            {
                app.Logger.LogWarning("The Data Protection keys (which sign cookies, bearer and order tokens) are stored unencrypted in the database. " +
                                      "Set DataProtection:CertificatePath (and CertificatePassword) to a .pfx to encrypt them: see README, Deploying in production.");
            }
        }
        return app;
    }
}
