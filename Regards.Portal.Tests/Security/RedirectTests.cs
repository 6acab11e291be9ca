using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Security;

/// <summary>"Come back to" parameters of the sign-in form and the language switch: a path of this site is followed,
/// anything else goes home — never another host, never a 500.</summary>
public sealed partial class RedirectTests(PortalAppFactory factory) : IClassFixture<PortalAppFactory>
{
    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    private HttpClient Client() => factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    /// <summary>Signs in through the real sign-in form with this ReturnUrl; answers the redirect target.</summary>
    private async Task<(HttpStatusCode Status, string? Location)> SignInAsync(string returnUrl)
    {
        using var client = Client();
        var url = "/Account/Login?ReturnUrl=" + Uri.EscapeDataString(returnUrl);
        var page = await client.GetStringAsync(url);
        var token = AntiforgeryToken().Match(page).Groups[1].Value;
        Assert.NotEmpty(token);
        using var response = await client.PostAsync(url, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = token,
            ["Input.Email"] = DemoUsers.Guest,
            ["Input.Password"] = PortalAppFactory.DemoPassword(DemoUsers.Guest),
        }));
        return (response.StatusCode, response.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("//evil.example/x")]
    [InlineData("http://evil.example/x")]
    [InlineData("/\\evil.example/x")]
    [InlineData("\\\\evil.example/x")]
    [InlineData("javascript:alert(1)")]
    public async Task Sign_in_with_a_return_url_off_the_site_lands_home(string returnUrl)
    {
        var (status, location) = await SignInAsync(returnUrl);
        Assert.Equal(HttpStatusCode.Redirect, status);
        Assert.NotNull(location);
        Assert.DoesNotContain("evil", location);
        Assert.DoesNotContain("javascript", location);
        Assert.True(location == "/" || Uri.TryCreate(location, UriKind.Absolute, out var absolute) && absolute.Host == "localhost", location);
    }

    [Fact]
    public async Task Sign_in_with_a_path_of_the_site_comes_back_to_it()
    {
        var (status, location) = await SignInAsync("orders");
        Assert.Equal(HttpStatusCode.Redirect, status);
        Assert.EndsWith("/orders", location);
    }

    [Theory]
    [InlineData("/%5Cevil.example", "/")]
    [InlineData("//evil.example", "/")]
    [InlineData("https://evil.example", "/")]
    [InlineData("/orders?page=2", "/orders?page=2")]
    public async Task The_language_switch_only_comes_back_to_a_path_of_the_site(string redirectUri, string expected)
    {
        using var client = Client();
        using var response = await client.GetAsync("/culture/set?culture=fr&redirectUri=" + redirectUri);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(expected, response.Headers.Location?.OriginalString);
    }
}
