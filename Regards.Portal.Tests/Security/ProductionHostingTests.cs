using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Security;

/// <summary>
/// A production start behind a TLS-terminating proxy (forwarded headers, HSTS, Secure cookies, https links), its
/// Content Security Policy, and Data Protection keys encrypted at rest with a configured certificate.
/// </summary>
public sealed partial class ProductionHostingTests
{
    private static HttpRequestMessage Get(string path, bool viaTlsProxy)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        // HSTS is never sent for localhost: the proxy's public name.
        request.Headers.Host = "portal.example.org";
        if (viaTlsProxy)
        {
            request.Headers.Add("X-Forwarded-Proto", "https");
            request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        }
        return request;
    }

    [Fact]
    public async Task Behind_a_tls_proxy_on_loopback_answers_carry_hsts_and_secure_cookies_and_plain_requests_do_not()
    {
        using var factory = ProductionDefaultsTests.Production();
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = factory.StartKestrel() };

        using var proxied = await client.SendAsync(Get("/Account/Login", viaTlsProxy: true));
        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
        Assert.True(proxied.Headers.TryGetValues("Strict-Transport-Security", out var hsts));
        Assert.StartsWith("max-age=", Assert.Single(hsts));
        var cookies = proxied.Headers.GetValues("Set-Cookie").ToList();
        Assert.NotEmpty(cookies);
        Assert.All(cookies, cookie => Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase));

        // The same request straight to the portal (no proxy said HTTPS): no HSTS, no Secure cookie, and since the portal
        // has no HTTPS port of its own here, no redirect either.
        using var plain = await client.SendAsync(Get("/Account/Login", viaTlsProxy: false));
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.False(plain.Headers.Contains("Strict-Transport-Security"));
        Assert.All(plain.Headers.GetValues("Set-Cookie"), cookie => Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_scheme_a_client_writes_before_the_proxy_is_not_believed()
    {
        using var factory = ProductionDefaultsTests.Production();
        factory.Settings["ReverseProxy:KnownProxies:0"] = "10.1.2.3";
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = factory.StartKestrel() };
        var spoofed = Get("/Account/Login", viaTlsProxy: false);
        // A proxy appends what it saw to what the client sent: only the proxy's own (last) value counts.
        spoofed.Headers.Add("X-Forwarded-Proto", "https, http");
        spoofed.Headers.Add("X-Forwarded-For", "198.51.100.1, 203.0.113.7");
        using var response = await client.SendAsync(spoofed);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public void A_known_proxy_that_is_not_an_address_stops_the_start_with_the_reason()
    {
        using var factory = ProductionDefaultsTests.Production();
        factory.Settings["ReverseProxy:KnownNetworks:0"] = "10.0.0.0/33";
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateAnonymousClient());
        Assert.Contains("ReverseProxy:KnownNetworks", error.ToString());
    }

    [Fact]
    public async Task Pages_carry_a_csp_whose_nonce_their_import_map_uses_and_other_answers_a_sandbox()
    {
        using var factory = ProductionDefaultsTests.Production();
        var client = factory.CreateAnonymousClient();
        var nonces = new List<string>();
        foreach (var path in new[] { "/", "/Account/Login", "/not-found" })
        {
            using var page = await client.GetAsync(path);
            var policy = Assert.Single(page.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("script-src 'self' 'nonce-", policy);
            Assert.Contains("object-src 'none'", policy);
            Assert.Contains("frame-ancestors 'self'", policy);
            Assert.DoesNotContain("unsafe-eval", policy);
            var nonce = NonceRegex().Match(policy).Groups[1].Value;
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains($"<script type=\"importmap\" nonce=\"{nonce}\"", html);
            // Every inline script of the page carries the nonce (the others are files of the portal).
            Assert.All(InlineScriptRegex().Matches(html), m => Assert.Contains($"nonce=\"{nonce}\"", m.Value));
            nonces.Add(nonce);
        }
        Assert.Equal(nonces.Count, nonces.Distinct().Count());

        foreach (var path in new[] { "/api/user/orders", "/api/orders/public/files/1?orderToken=forged", "/health" })
        {
            using var answer = await client.GetAsync(path);
            Assert.Equal("default-src 'none'; frame-ancestors 'none'; sandbox", Assert.Single(answer.Headers.GetValues("Content-Security-Policy")));
        }
    }

    [Fact]
    public async Task With_a_certificate_configured_the_data_protection_keys_are_stored_encrypted_and_read_back()
    {
        var folder = Path.Combine(Path.GetTempPath(), "regards-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var pfx = Path.Combine(folder, "keys.pfx");
        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=Regards.Portal keys", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pkcs12, "pfx-secret"));
        }

        using var factory = ProductionDefaultsTests.Production();
        factory.Settings["DataProtection:CertificatePath"] = pfx;
        factory.Settings["DataProtection:CertificatePassword"] = "pfx-secret";
        var client = factory.CreateAnonymousClient();
        var token = await PortalAppFactory.LoginAsync(client, "ops@site.test", "Site-Specific-Secret-42");
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        // The bearer token was made with the key and is read back with it (the key unwrapped with the certificate).
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/user/orders")).StatusCode);

        await using var db = factory.CreateDbContext();
        var keys = await db.DataProtectionKeys.Select(k => k.Xml!).ToListAsync();
        Assert.NotEmpty(keys);
        Assert.All(keys, xml =>
        {
            Assert.Contains("EncryptedData", xml);
            Assert.DoesNotContain("<masterKey", xml);
        });
    }

    [Fact]
    public async Task Without_a_certificate_the_keys_are_plain_and_the_start_says_so()
    {
        using var factory = ProductionDefaultsTests.Production();
        var client = factory.CreateAnonymousClient();
        await PortalAppFactory.LoginAsync(client, "ops@site.test", "Site-Specific-Secret-42");
        await using var db = factory.CreateDbContext();
        Assert.Contains(await db.DataProtectionKeys.Select(k => k.Xml!).ToListAsync(), xml => xml.Contains("<masterKey"));
    }

    [GeneratedRegex("'nonce-([^']+)'")]
    private static partial Regex NonceRegex();

    [GeneratedRegex("<script(?![^>]*\\ssrc=)[^>]*>")]
    private static partial Regex InlineScriptRegex();
}
